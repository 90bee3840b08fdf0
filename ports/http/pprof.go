package http

import (
	"net/http"
	"net/http/pprof"

	"github.com/go-chi/chi/v5"
)

// mountPprof serves Go's profiles (CPU, heap, allocations, goroutines) under
// /debug/pprof. Only the operators' listeners have them (the separate admin
// listener, a worker's): they are meant for the operators' network, and a
// profile tells an attacker much while a CPU profile costs the process for
// its duration.
func mountPprof(r chi.Router) {
	r.HandleFunc("/debug/pprof/", pprof.Index)
	r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	r.HandleFunc("/debug/pprof/profile", pprof.Profile)
	r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	r.Handle("/debug/pprof/{name}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		pprof.Handler(chi.URLParam(req, "name")).ServeHTTP(w, req)
	}))
}
