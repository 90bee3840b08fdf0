package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// StartBatch starts, in ctx (for its deadline), the span of work done once
// for many requests: a group commit, one Redis round trip for many commands.
// The work of one request alone is a child of that request's span. Shared, it
// belongs to none of them: it is a trace of its own, linked to each member's
// span, so that the batch names every request it served and a trace
// backend leads from each request to the batch that carried it.
func StartBatch(ctx context.Context, tracer trace.Tracer, name string, members []context.Context, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if len(members) == 1 {
		return tracer.Start(trace.ContextWithSpan(ctx, trace.SpanFromContext(members[0])), name, opts...)
	}
	links := make([]trace.Link, 0, len(members))
	for _, m := range members {
		if sc := trace.SpanContextFromContext(m); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	opts = append(opts, trace.WithNewRoot(), trace.WithLinks(links...),
		trace.WithAttributes(attribute.Int("batch.size", len(members))))
	return tracer.Start(ctx, name, opts...)
}
