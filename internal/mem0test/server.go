// Package mem0test runs an in-process fake Memory Bank speaking both mem0 flavors, for
// tests. In the platform flavor every request is also checked against mem0's own
// OpenAPI document, so a test fails when our client sends what mem0 would refuse.
package mem0test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

// Server is a fake Memory Bank. It is safe for concurrent use.
type Server struct {
	t      testing.TB
	flavor memorybank.Flavor
	srv    *httptest.Server
	routes *http.ServeMux

	mu          sync.Mutex
	st          store
	requests    int
	failN       int
	failStatus  int
	down        bool
	apiKey      string
	ignoreLimit bool
	scorer      func(query, memory string) float64
	afterAdd    func()
}

// NewServer starts a fake Memory Bank of the given flavor, closed when t ends.
func NewServer(t testing.TB, flavor memorybank.Flavor) *Server {
	t.Helper()
	s := &Server{t: t, flavor: flavor, routes: http.NewServeMux(), scorer: WordOverlap}
	switch flavor {
	case memorybank.FlavorOSS:
		s.routeOSS()
	case memorybank.FlavorPlatform:
		if _, err := platformRouter(); err != nil {
			t.Fatalf("mem0test: %v", err)
		}
		s.routePlatform()
	default:
		t.Fatalf("mem0test: unknown flavor %q", flavor)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL, to use as memorybank.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Memories returns a copy of every stored memory, in insertion order.
func (s *Server) Memories() []StoredMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredMemory, len(s.st.memories))
	for i, m := range s.st.memories {
		out[i] = m.clone()
	}
	return out
}

// Count is how many memories are stored.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.memories)
}

// History returns a copy of the changes made to memory id, oldest first.
func (s *Server) History(id string) []HistoryEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]HistoryEntry(nil), s.st.history[id]...)
}

// FailNext makes the next n requests answer status with a JSON error body.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// SetDown makes every request answer 503 while down is true.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Requests is how many requests the server received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// SetAPIKey makes the server require the flavor's auth header with key
// (oss: X-API-Key or Bearer; platform: "Authorization: Token <key>"); "" turns it off.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// SetIgnoreLimit makes searches return every match, as old OSS servers do.
func (s *Server) SetIgnoreLimit(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreLimit = ignore
}

// SetScorer replaces WordOverlap as the search score, e.g. to return scores outside 0..1.
func (s *Server) SetScorer(score func(query, memory string) float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scorer = score
}

// AfterAdd makes fn run each time a memory has been stored, before the answer
// is sent: a test can stop a worker exactly between the Memory Bank's write and
// the worker's commit. nil removes the hook.
func (s *Server) AfterAdd(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterAdd = fn
}

func (s *Server) runAfterAdd() {
	s.mu.Lock()
	fn := s.afterAdd
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()

	if s.flavor == memorybank.FlavorPlatform {
		if err := validatePlatformRequest(r); err != nil {
			s.t.Errorf("mem0test: %s %s does not match mem0's OpenAPI document: %v", r.Method, r.URL.RequestURI(), err)
			s.writeError(w, http.StatusBadRequest, "request does not match the API: "+firstLine(err.Error()))
			return
		}
	}

	s.mu.Lock()
	down, key, fail := s.down, s.apiKey, 0
	if !down && s.failN > 0 {
		s.failN--
		fail = s.failStatus
	}
	s.mu.Unlock()

	switch {
	case down:
		s.writeError(w, http.StatusServiceUnavailable, "mem0test: server down")
	case fail != 0:
		s.writeError(w, fail, "mem0test: injected failure")
	case key != "" && !s.authorized(r, key):
		s.writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid API key"})
	default:
		s.routes.ServeHTTP(w, r)
	}
}

func (s *Server) authorized(r *http.Request, key string) bool {
	if s.flavor == memorybank.FlavorPlatform {
		return r.Header.Get("Authorization") == "Token "+key
	}
	return r.Header.Get("X-API-Key") == key || r.Header.Get("Authorization") == "Bearer "+key
}

// writeError answers with the flavor's error shape: FastAPI's {"detail"} for oss,
// {"error"} for the platform.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	key := "detail"
	if s.flavor == memorybank.FlavorPlatform {
		key = "error"
	}
	s.writeJSON(w, status, map[string]string{key: msg})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.t.Errorf("mem0test: encoding answer: %v", err)
		status, body = http.StatusInternalServerError, []byte(`{"detail":"mem0test: encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeBody reads a JSON request body into v, answering the flavor's error on failure.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(v); err != nil {
		status := http.StatusBadRequest
		if s.flavor == memorybank.FlavorOSS {
			status = http.StatusUnprocessableEntity
		}
		s.writeError(w, status, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// now is the timestamp of a write: microseconds, like Python's datetime.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// pacific is the zone mem0 writes its timestamps in.
var pacific = time.FixedZone("PST", -8*60*60)

func timestamp(t time.Time) string {
	return t.In(pacific).Format("2006-01-02T15:04:05.000000-07:00")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 300 {
		line = line[:300]
	}
	return line
}
