package tracing

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Inject writes the context of ctx's span into md as traceparent (and
// tracestate), so that whoever handles the message continues the trace;
// nothing when ctx has no valid span.
func Inject(ctx context.Context, md message.Metadata) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		Propagator.Inject(ctx, metadataCarrier(md))
	}
}

// Extract is ctx with the span context md carries as its remote parent; ctx
// as it is when md carries none.
func Extract(ctx context.Context, md message.Metadata) context.Context {
	return Propagator.Extract(ctx, metadataCarrier(md))
}

// TraceParent is the W3C traceparent of ctx's span, "" when it has none: a
// span's context as one string, to keep in a column or a header.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	Propagator.Inject(ctx, c)
	return c.Get("traceparent")
}

// WithTraceParent is ctx with the span a stored traceparent names as its
// remote parent; ctx as it is when traceparent is empty or malformed.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// metadataCarrier lets the propagator read and write Watermill metadata.
type metadataCarrier message.Metadata

func (m metadataCarrier) Get(key string) string { return message.Metadata(m).Get(key) }

func (m metadataCarrier) Set(key, value string) { message.Metadata(m).Set(key, value) }

func (m metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
