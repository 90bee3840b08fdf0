package events

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// TraceID is the id of the trace ctx's span belongs to, "" outside one (or
// with tracing off): the audit keeps it beside the correlation id, so an
// entry leads to the request's spans.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}
