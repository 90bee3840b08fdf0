package http

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

func TestRequestSpans(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	_, proxy, _ := net.ParseCIDR("192.0.2.0/24")
	cfg := Config{Tracer: tp, Proxies: Proxies{Ranges: []net.IPNet{*proxy}, Header: "X-Forwarded-For"}}
	r := newRouter(cfg)
	var inHandler trace.SpanContext
	r.Get("/api/v1/memories/{memory_id}", func(w http.ResponseWriter, r *http.Request) {
		inHandler = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h := traced(cfg, r)

	// A client's own trace, which it may not impose.
	_, client := tracing.Tracer(tp).Start(context.Background(), "client")
	client.End()
	clientCtx := trace.ContextWithSpan(context.Background(), client)
	send := func(path, from string, withParent bool) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = from
		if withParent {
			req.Header.Set("traceparent", tracing.TraceParent(clientCtx))
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("/api/v1/memories/m-1", "198.51.100.7:5000", true)
	send("/api/v1/memories/m-2", "192.0.2.10:5000", true)
	send("/no/such/route/x-9", "198.51.100.7:5000", false)
	send("/healthz", "198.51.100.7:5000", false)

	var server []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			server = append(server, s)
		}
	}
	if len(server) != 3 {
		t.Fatalf("%d server spans, want 3 (none for /healthz)", len(server))
	}
	for _, s := range server[:2] {
		if s.Name() != "GET /api/v1/memories/{memory_id}" {
			t.Errorf("span named %q, want the route's pattern", s.Name())
		}
	}
	if server[2].Name() != "GET" {
		t.Errorf("an unrouted request's span is named %q, want the method alone", server[2].Name())
	}
	public, proxied := server[0], server[1]
	if public.Parent().IsValid() || public.SpanContext().TraceID() == client.SpanContext().TraceID() ||
		len(public.Links()) != 1 || public.Links()[0].SpanContext.SpanID() != client.SpanContext().SpanID() {
		t.Errorf("a client's traceparent must be linked from a trace of our own: parent %v, links %v", public.Parent(), public.Links())
	}
	if proxied.Parent().SpanID() != client.SpanContext().SpanID() {
		t.Errorf("a trusted proxy's traceparent must be continued: parent %v", proxied.Parent())
	}
	if inHandler.SpanID() != proxied.SpanContext().SpanID() {
		t.Errorf("the handler runs in %v, want its request's span", inHandler)
	}
}

// Off, the router is served as it is: no wrapper on any request.
func TestRequestsUntracedWhenOff(t *testing.T) {
	t.Parallel()
	r := newRouter(Config{})
	if h := traced(Config{}, r); h != http.Handler(r) {
		t.Fatalf("tracing off wrapped the router in %T", h)
	}
}
