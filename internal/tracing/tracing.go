// Package tracing holds what every room of the service needs to take part in
// one trace per request: the tracer of the service's own spans, the W3C
// propagation of a span's context through Watermill metadata and stored
// columns, the model of a batch that serves many requests, and the log
// handler that stamps each line with its trace. The SDK and its exporter are
// wired in service/; libraries instrument Postgres, Redis and HTTP.
package tracing

import (
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// scope names the instrumentation of the service's own spans.
const scope = "github.com/custom-gpt-adapter/custom-gpt-adapter"

// Propagator carries a span's context as W3C traceparent and tracestate, in
// HTTP headers and in message metadata alike.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// On tells whether tp records anything: instrumentation is installed only
// then, so a service without tracing pays nothing on its hot paths.
func On(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// Or is tp, or the no-op provider when tp is nil.
func Or(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return noop.NewTracerProvider()
	}
	return tp
}

// Tracer is the tracer of the service's own spans, from tp (no-op when nil).
func Tracer(tp trace.TracerProvider) trace.Tracer { return Or(tp).Tracer(scope) }

// End ends span, marking it failed when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
