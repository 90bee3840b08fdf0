package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ChildrenOnly is tp for libraries that instrument every call of a client
// (Redis commands, outgoing HTTP): it starts their spans only inside a trace
// that something else started, a request or a message. Without it, every
// background poll (a subscriber's blocking read, a dispatcher looking for due
// webhooks) would be a trace of its own, drowning the ones that matter.
func ChildrenOnly(tp trace.TracerProvider) trace.TracerProvider { return childrenOnly{tp: Or(tp)} }

type childrenOnly struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childrenOnly) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childTracer{t: p.tp.Tracer(name, opts...)}
}

type childTracer struct {
	embedded.Tracer
	t trace.Tracer
}

// Start starts a span only under a valid parent; otherwise it returns the
// context's own span, which records nothing, so that ending it is a no-op.
func (t childTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.t.Start(ctx, name, opts...)
}
