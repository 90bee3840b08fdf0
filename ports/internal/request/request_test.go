package request_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// The id is the service's; a sane X-Request-ID is only the correlation id;
// an inner port keeps the outer port's id.
func TestWithID(t *testing.T) {
	var inner, outer, correlation string
	h := request.WithID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = request.ID(r.Context())
		request.WithID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner, correlation = request.ID(r.Context()), events.CorrelationID(r.Context())
		})).ServeHTTP(w, r)
	}))
	for _, sent := range []string{"client-chosen-id", "bad id with spaces"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("X-Request-ID", sent)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if outer == "" || outer == sent || inner != outer || rec.Header().Get("X-Request-ID") != outer {
			t.Errorf("sent %q: outer %q, inner %q, header %q", sent, outer, inner, rec.Header().Get("X-Request-ID"))
		}
		want := sent
		if sent != "client-chosen-id" {
			want = outer
		}
		if correlation != want {
			t.Errorf("sent %q: correlation %q, want %q", sent, correlation, want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "": "", "Bearer": ""} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		if got := request.BearerToken(req); got != want {
			t.Errorf("%q: %q, want %q", header, got, want)
		}
	}
}
