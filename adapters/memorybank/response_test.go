package memorybank_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

// TestUntrustedAnswers feeds the client answers no well-behaved mem0 sends.
func TestUntrustedAnswers(t *testing.T) {
	const maxBody = 8 << 20
	tests := []struct {
		name          string
		status        int
		body          string
		wantHits      int
		wantTransient bool
		wantReason    string // "" means success
	}{
		{"html with 200", 200, "<html>proxy</html>", 0, true, "malformed response"},
		{"object without results", 200, `{"status":"ok"}`, 0, false, ""},
		{"foreign memories dropped", 200, `[{"id":"a","user_id":"app9"},{"id":"b","user_id":"app1"},{"id":"c"}]`, 2, false, ""},
		{"too large", 200, `[` + strings.Repeat(" ", maxBody) + `]`, 0, false, "response too large"},
		{"long 4xx reason bounded", 400, `{"detail":"` + strings.Repeat("é", 1000) + `"}`, 0, false, strings.Repeat("é", 300) + "…"},
		{"4xx without JSON", 403, "forbidden", 0, false, "forbidden"},
		{"5xx detail kept out of the reason", 500, `{"detail":"qdrant at 10.0.0.7 refused"}`, 0, true, "internal server error"},
		{"redirect not followed", 301, ``, 0, false, "moved permanently"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, memorybank.FlavorOSS)

			hits, err := c.Search(context.Background(), scope(t, "app1", ""), query(t, "x", 10))
			if tt.wantReason == "" {
				if err != nil || len(hits) != tt.wantHits {
					t.Fatalf("got %d hits, %v; want %d hits", len(hits), err, tt.wantHits)
				}
				return
			}
			be := bankError(t, err)
			if be.Transient != tt.wantTransient || be.Reason != tt.wantReason || be.StatusCode != tt.status {
				t.Errorf("got transient=%v status=%d reason=%.80q, want transient=%v status=%d reason=%.80q",
					be.Transient, be.StatusCode, be.Reason, tt.wantTransient, tt.status, tt.wantReason)
			}
			if n := utf8.RuneCountInString(be.Reason); n > 301 {
				t.Errorf("reason has %d runes", n)
			}
		})
	}
}
