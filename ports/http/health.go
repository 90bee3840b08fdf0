package http

import (
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether this instance can serve: Postgres and Redis answer,
// and each of its consumers can read its stream.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// NewOpsHandler serves what a process without the API still answers to its
// operators: /healthz, /readyz, /metrics and Go's profiles (a worker, say).
func NewOpsHandler(cfg Config) http.Handler {
	s := &Server{cfg: cfg}
	r := chi.NewRouter()
	r.Use(request.WithID, recoverer(cfg.Logger))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		problems.Write(w, r, http.StatusNotFound, "not-found", "", "no such resource")
	})
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mountPprof(r)
	return r
}
