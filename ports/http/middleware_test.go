package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Requests are counted by route pattern and a known method: neither the path
// nor a method a client makes up becomes a label value.
func TestHTTPMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := newHTTPMetrics(reg)
	r := chi.NewRouter()
	r.Use(m.middleware)
	r.Get("/things/{id}", func(w http.ResponseWriter, r *http.Request) {})
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/things/0193aa", nil),
		httptest.NewRequest("BREW-0193aa", "/things/0193bb", nil),
		httptest.NewRequest(http.MethodGet, "/nowhere/0193cc", nil),
	} {
		r.ServeHTTP(httptest.NewRecorder(), req)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "custom_gpt_http_requests_total" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["method"]+" "+labels["route"]+" "+labels["code"]] = true
		}
	}
	for _, want := range []string{"GET /things/{id} 200", "other unmatched 405", "GET unmatched 404"} {
		if !got[want] {
			t.Errorf("no series %q among %v", want, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("series %v, want 3", got)
	}
	for series := range got {
		for _, raw := range []string{"0193aa", "0193bb", "0193cc", "BREW"} {
			if strings.Contains(series, raw) {
				t.Errorf("series %q holds the raw request's %q", series, raw)
			}
		}
	}
}
