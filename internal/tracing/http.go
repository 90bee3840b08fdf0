package tracing

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// Client is c, whose requests made inside a trace are client spans of it
// (otelhttp), named "<METHOD> <peer>", and carry their traceparent to the
// server; c itself is not changed. Requests outside a trace make no span.
// With a provider that records nothing, it is c.
func Client(c *http.Client, tp trace.TracerProvider, peer string) *http.Client {
	if !On(tp) {
		return c
	}
	traced := *c
	base := traced.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	traced.Transport = otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(ChildrenOnly(tp)),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // the adapters count their calls in Prometheus
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + peer }),
	)
	return &traced
}
