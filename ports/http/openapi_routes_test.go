package http

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
)

// Every /api/v1 route the router answers is in the document, and every
// operation of the document is a route: the document cannot drift from the code.
func TestDocumentCoversEveryRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewHandler(app.Application{}, Config{PublicURL: "https://memory.example.com", Gatherer: reg, Registerer: reg})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("document: %v", err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/") {
			routed[method+" "+strings.ReplaceAll(route, "/*/", "/")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routed) == 0 {
		t.Fatal("no /api routes found")
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("%s is served but not in the document", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("%s is in the document but not served", d)
		}
	}
}
