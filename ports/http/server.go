// Package http is the service's HTTP port: it decodes requests, calls the
// application's use cases, and maps their results and errors to responses.
package http

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// Config is what the HTTP port needs from the wiring.
type Config struct {
	// PublicURL is where GPTs reach the service (CUSTOM_GPT_PUBLIC_URL): the
	// OpenAPI document's server and the base of its OAuth URLs.
	PublicURL  string
	AdminToken string // empty: the admin API is not mounted
	// AdminElsewhere serves /admin/v1 and /metrics on their own listener
	// (NewAdminHandler, CUSTOM_GPT_ADMIN_ADDR) instead of this one.
	AdminElsewhere bool
	// Proxies are the reverse proxies whose forwarding header gives the client's address.
	Proxies    Proxies
	OAuth      http.Handler  // the authorization server: /.well-known/* and /oauth/*
	MCP        http.Handler  // each application's MCP endpoint, /mcp/{app_id}; nil: not served
	Privacy    PrivacyPolicy // served at /privacy; the default text when empty
	Ready      func(ctx context.Context) error
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Idempotency keeps Idempotency-Key records; nil ignores the header.
	Idempotency idempotency.Store

	// StreamPrefix names the event streams /asyncapi.json describes
	// (CUSTOM_GPT_STREAM_PREFIX).
	StreamPrefix string
	// Tracer makes each request's server span; nil or the no-op provider
	// installs no tracing at all.
	Tracer trace.TracerProvider
}

// Server holds the HTTP port's dependencies.
type Server struct {
	app app.Application
	cfg Config
}

// NewHandler builds the router.
func NewHandler(a app.Application, cfg Config) http.Handler {
	s := &Server{app: a, cfg: cfg}
	metrics := newHTTPMetrics(cfg.Registerer)

	r := newRouter(cfg, metrics.middleware)
	r.Get("/healthz", s.healthz)
	if cfg.Privacy.Body == nil {
		cfg.Privacy, _ = LoadPrivacyPolicy("")
	}
	r.Get("/privacy", cfg.Privacy.serve)
	r.Get("/readyz", s.readyz)

	var api huma.API
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate, s.rateLimit(cfg.Registerer)) // before any route's own middleware
		api = s.newAPI(r)
	})
	doc := newDocument(api.OpenAPI())
	r.Get("/openapi.json", doc.serveJSON)
	r.Get("/openapi.yaml", doc.serveYAML)
	r.Get("/asyncapi.json", serveAsyncAPI(newAsyncAPIDocument(events.Topics{Prefix: cfg.StreamPrefix}, strings.TrimSuffix(cfg.PublicURL, "/"))))
	if cfg.MCP != nil {
		// An MCP endpoint's protected resource metadata (RFC 9728) is the
		// MCP port's, though under /.well-known.
		r.Handle("/.well-known/oauth-protected-resource/mcp/*", cfg.MCP)
	}
	if cfg.OAuth != nil {
		r.Handle("/.well-known/*", cfg.OAuth)
		r.Handle("/oauth/*", cfg.OAuth)
	}
	if cfg.MCP != nil {
		r.Handle("/mcp/*", cfg.MCP)
	}
	if !cfg.AdminElsewhere {
		s.mountAdmin(r)
	}
	return traced(cfg, r)
}

// NewAdminHandler serves the admin API and the metrics on a listener of their
// own (CUSTOM_GPT_ADMIN_ADDR), for example one only the operators' network
// reaches, with /healthz and /readyz for its probes.
func NewAdminHandler(a app.Application, cfg Config) http.Handler {
	s := &Server{app: a, cfg: cfg}
	r := newRouter(cfg)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	s.mountAdmin(r)
	mountPprof(r)
	return traced(cfg, r)
}

// newRouter is a router with what every listener does first: the client's
// address behind trusted proxies, a request id, panics answered as problems,
// and problems for unknown routes and methods.
func newRouter(cfg Config, more ...func(http.Handler) http.Handler) chi.Router {
	r := chi.NewRouter()
	r.Use(clientAddress(cfg.Proxies), request.WithID, recoverer(cfg.Logger))
	if tracing.On(cfg.Tracer) {
		r.Use(nameByRoute)
	}
	r.Use(more...)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		problems.Write(w, r, http.StatusNotFound, "not-found", "", "no such resource")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		problems.Write(w, r, http.StatusMethodNotAllowed, "method-not-allowed", "", "this method is not allowed here")
	})
	return r
}

// mountAdmin adds /metrics, and /admin/v1 when an admin token is set.
func (s *Server) mountAdmin(r chi.Router) {
	r.Handle("/metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	if s.cfg.AdminToken == "" {
		return
	}
	r.Route("/admin/v1", func(r chi.Router) {
		r.Use(s.adminOnly)
		r.Get("/audit", s.listAudit)
		r.Get("/audit/export", s.exportAudit)
	})
}

// NewServer wraps the handler with timeouts, so a slow client cannot hold a
// connection forever.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Serve serves h on addr until ctx ends, then drains in-flight requests for
// at most 20 seconds. A listener that fails is named by label (the setting
// addr came from), so the operator knows which to fix.
func Serve(ctx context.Context, label, addr string, h http.Handler, log *slog.Logger) error {
	srv := NewServer(addr, h)
	// Bound before it is announced: the log says where it listens only once
	// it does.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", label, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
