package http

import (
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/realclientip/realclientip-go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// untraced are the paths of probes and scrapes: a trace each would be most
// of the traces, and would tell nothing.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// traced starts each request's trace with its server span, when tracing is
// on. A traceparent sent by a trusted proxy (CUSTOM_GPT_TRUSTED_PROXIES) is
// continued; anyone else's only linked, from a trace of our own, as an
// X-Request-ID is kept beside the request id: no client picks the trace id
// the audit records, nor whether its request is sampled.
func traced(cfg Config, h http.Handler) http.Handler {
	if !tracing.On(cfg.Tracer) {
		return h
	}
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(cfg.Tracer),
		otelhttp.WithPropagators(tracing.Propagator),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // metrics are Prometheus's (httpMetrics)
		// The method alone until the route is known (nameByRoute).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }),
		otelhttp.WithPublicEndpointFn(func(r *http.Request) bool {
			ip := net.ParseIP(realclientip.RemoteAddrStrategy{}.ClientIP(nil, r.RemoteAddr))
			return ip == nil || !trusted(ip, cfg.Proxies.Ranges)
		}),
	)
}

// nameByRoute names the request's span after the route that served it, once
// routing is done: "POST /api/v1/memories/{memory_id}", never the raw path,
// whose ids would make a name per memory. A request no route matched keeps
// the method alone.
func nameByRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		rc := chi.RouteContext(r.Context())
		if rc == nil || rc.RoutePattern() == "" {
			return
		}
		span := trace.SpanFromContext(r.Context())
		span.SetName(r.Method + " " + rc.RoutePattern())
		span.SetAttributes(attribute.String("http.route", rc.RoutePattern()))
	})
}
