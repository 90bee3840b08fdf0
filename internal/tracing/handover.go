package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// Handover starts the span of a write the worker runs because the write
// before it in its scope handed it its turn (command.Turns): it belongs to
// another request than the one in whose handling it runs, so it is a trace
// of its own, "turn <Command>", linked to the span that handed it over.
// Nil when tp records nothing.
func Handover(tp trace.TracerProvider) func(ctx context.Context, command string) (context.Context, func(error)) {
	if !On(tp) {
		return nil
	}
	tracer := Tracer(tp)
	return func(ctx context.Context, command string) (context.Context, func(error)) {
		ctx, span := tracer.Start(ctx, "turn "+command, trace.WithNewRoot(), trace.WithLinks(trace.LinkFromContext(ctx)))
		return ctx, func(err error) { End(span, err) }
	}
}
