// Package mem0test runs an in-process fake Memory Bank speaking both mem0 flavors, for
// tests. It behaves as mem0 as released (Python package 2.0.18, mem0ai/mem0 at 8d5b786):
// never more generous than the real thing in defaults, caps, order, auth or failures.
//
// The open-source flavor follows mem0's server/main.py, server/auth.py and
// mem0/memory/main.py. The platform flavor follows mem0's OpenAPI document
// (docs/openapi.json, embedded in testdata) and docs/platform; every request it receives
// and every answer it sends is checked against that document, so a test fails when our
// client sends what mem0 would refuse or when the fake drifts from the document.
package mem0test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

// Call is one request the server received.
type Call struct {
	Method   string
	Path     string
	RawQuery string
}

// Server is a fake Memory Bank. It is safe for concurrent use.
type Server struct {
	t       testing.TB
	flavor  memorybank.Flavor
	srv     *httptest.Server
	ossMux  *http.ServeMux
	done    chan struct{} // closed when the test ends: background events stop
	workers sync.WaitGroup

	mu               sync.RWMutex // searches of the open-source flavor share it; everything else holds it alone
	st               store
	calls            []Call
	failN            int
	failStatus       int
	loseN            int
	loseStatus       int
	down             bool
	apiKey           string                             // oss: a non-admin user's API key; platform: the project key
	adminKey         string                             // oss: ADMIN_API_KEY
	bearerToken      string                             // oss: a non-admin user's JWT access token
	scorer           func(query, memory string) float64 // nil: WordOverlap, on words counted once per memory
	afterAdd         func()
	inferredFacts    int
	deleteAllCap     int
	rejectDeprecated bool
	eventDelay       time.Duration
	failEvents       int
	events           map[string]*event
}

// NewServer starts a fake Memory Bank of the given flavor, closed when t ends.
func NewServer(t testing.TB, flavor memorybank.Flavor) *Server {
	t.Helper()
	s := &Server{
		t: t, flavor: flavor, done: make(chan struct{}),
		inferredFacts: 1, eventDelay: 50 * time.Millisecond,
		events: make(map[string]*event),
	}
	switch flavor {
	case memorybank.FlavorOSS:
		s.ossMux = s.ossRoutes()
	case memorybank.FlavorPlatform:
		if _, err := platformDocument(); err != nil {
			t.Fatalf("mem0test: %v", err)
		}
	default:
		t.Fatalf("mem0test: unknown flavor %q", flavor)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.srv.Close()
		close(s.done)
		s.workers.Wait()
	})
	return s
}

// URL is the server's base URL, to use as memorybank.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Memories returns a copy of every stored memory, in the order they were stored (not
// the order the server lists them in).
func (s *Server) Memories() []StoredMemory {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := slices.Clone(s.st.ordered)
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]StoredMemory, len(recs))
	for i, r := range recs {
		out[i] = r.stored(s.flavor == memorybank.FlavorPlatform)
	}
	return out
}

// Count is how many memories are stored.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.ordered)
}

// History returns a copy of the changes made to memory id, in the order mem0 lists them.
func (s *Server) History(id string) []HistoryEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HistoryEntry
	for _, h := range s.st.historyOf(id) {
		out = append(out, h.entry())
	}
	return out
}

// Requests is how many requests the server received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Calls lists every request the server received, in order, failed ones included.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// FailNext makes the next n requests answer status with an error body, without doing
// anything.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// LoseNextAnswers makes the next n write requests (adds, updates, deletes) take effect
// and then lose their answer, as behind a proxy that gives up: the client gets status
// with a proxy's HTML page instead of mem0's answer, or, with status 0, the connection
// closes without any answer.
func (s *Server) LoseNextAnswers(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN, s.loseStatus = n, status
}

// SetDown makes every request answer 503 while down is true.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetAPIKey sets the credential the server accepts. Open-source flavor: the per-user
// API key of a user who is not an admin, sent as "X-API-Key: key" (server/auth.py);
// setting it turns AUTH_DISABLED off. Platform flavor: the project's key, sent as
// "Authorization: Token key"; "" accepts any token.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// SetAdminKey sets the open-source server's ADMIN_API_KEY, sent as "X-API-Key: key"; it
// turns AUTH_DISABLED off. The platform has no such key.
func (s *Server) SetAdminKey(key string) {
	s.t.Helper()
	if s.flavor != memorybank.FlavorOSS {
		s.t.Errorf("mem0test: SetAdminKey applies to the open-source flavor only")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adminKey = key
}

// SetBearerToken sets a JWT access token of the same non-admin user, accepted by the
// open-source server as "Authorization: Bearer token". server/auth.py reads a Bearer
// credential as a JWT only: an API key sent that way is refused with 401.
func (s *Server) SetBearerToken(token string) {
	s.t.Helper()
	if s.flavor != memorybank.FlavorOSS {
		s.t.Errorf("mem0test: SetBearerToken applies to the open-source flavor only")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bearerToken = token
}

// SetScorer replaces WordOverlap as the semantic score of a memory for a query (nil
// restores it). Like pgvector's max(0, 1 - cosine distance), values outside 0..1 are
// clamped.
func (s *Server) SetScorer(score func(query, memory string) float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scorer = score
}

// SetIgnoreLimit does nothing.
//
// Deprecated: it modelled servers before 2.0 that returned every match; mem0 2.0.18
// honours top_k (default 20 in the open-source server, 10 on the platform).
func (s *Server) SetIgnoreLimit(bool) {
	s.t.Helper()
	s.t.Logf("mem0test: SetIgnoreLimit is a no-op: mem0 2.0.18 honours top_k")
}

// SetInferredFacts sets how many memories the simulated extraction of an add with
// inference stores: 0 (nothing worth remembering), 1 (the default: the user's text kept
// as one fact) or 2 (the text and a second fact derived from it).
func (s *Server) SetInferredFacts(n int) {
	s.t.Helper()
	if n < 0 || n > 2 {
		s.t.Errorf("mem0test: SetInferredFacts(%d): want 0, 1 or 2", n)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inferredFacts = n
}

// SetDeleteAllCap makes the open-source DELETE /memories delete at most n memories per
// call while still answering success, as servers did before mem0 PR #6636 (n = 100).
// 0 restores 2.0.18, which pages until the scope is empty.
func (s *Server) SetDeleteAllCap(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteAllCap = n
}

// SetRejectDeprecated makes every operation mem0's document marks deprecated answer
// 410 Gone, so a test proves a client calls none of them. Calls() still records them.
func (s *Server) SetRejectDeprecated(reject bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectDeprecated = reject
}

// SetEventDelay sets how long a platform event stays PENDING, and then RUNNING, before
// it completes (default 50ms).
func (s *Server) SetEventDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventDelay = d
}

// FailNextEvents makes the next n asynchronous platform events (adds, deletes by
// filter) end FAILED with an error, having changed nothing.
func (s *Server) FailNextEvents(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failEvents = n
}

// AfterAdd makes fn run each time an add has stored its memories, before the answer
// is sent (for the platform's asynchronous adds: when the event completes). A test can
// stop a worker exactly between the Memory Bank's write and the worker's commit. nil
// removes the hook.
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
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery})
	s.mu.Unlock()

	var op *platformOp
	if s.flavor == memorybank.FlavorPlatform {
		var refused bool
		if op, refused = s.checkPlatformRequest(w, r); refused {
			return
		}
	}

	s.mu.Lock()
	down, fail := s.down, 0
	if !down && s.failN > 0 {
		s.failN--
		fail = s.failStatus
	}
	reject := s.rejectDeprecated
	s.mu.Unlock()
	switch {
	case down:
		s.writeError(w, http.StatusServiceUnavailable, "mem0test: server down")
		return
	case fail != 0:
		s.writeError(w, fail, "mem0test: injected failure")
		return
	}

	var handler http.Handler
	if s.flavor == memorybank.FlavorOSS {
		if _, pattern := s.ossMux.Handler(r); pattern == "/" {
			s.ossMux.ServeHTTP(w, r) // an unknown route: FastAPI answers 404 before any auth
			return
		}
		var ok bool
		if r, ok = s.ossAuthenticate(w, r); !ok {
			return
		}
		handler = s.ossMux
	} else {
		if !s.platformAuthorized(r) {
			s.writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid API key"})
			return
		}
		if op.deprecated && reject {
			s.writeError(w, http.StatusGone, fmt.Sprintf("%s %s is deprecated", r.Method, op.path))
			return
		}
		handler = op.handler
	}

	lose, loseStatus := s.takeLostAnswer(r)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	if op != nil {
		s.checkPlatformResponse(op, r, rec)
	}
	if lose {
		s.loseAnswer(w, loseStatus)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	// mem0's open-source server answers through FastAPI, whose Starlette
	// responses carry their Content-Length ("Starlette will automatically
	// include a Content-Length header", starlette docs/responses.md): its
	// answers are never chunked, whatever their size. What the platform's
	// proxies do is not known: its answers keep Go's default (chunked past
	// 2 KiB), the harder case for a client.
	if s.flavor == memorybank.FlavorOSS && rec.Body.Len() > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// isWrite tells the requests that change memories: adds, updates, deletes.
func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		return slices.Contains([]string{"/memories", "/v1/memories/", "/v3/memories/add/"}, r.URL.Path)
	}
	return false
}

func (s *Server) takeLostAnswer(r *http.Request) (bool, int) {
	if !isWrite(r) {
		return false, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseN <= 0 {
		return false, 0
	}
	s.loseN--
	return true, s.loseStatus
}

// loseAnswer answers what a proxy does when mem0's answer never reaches it.
func (s *Server) loseAnswer(w http.ResponseWriter, status int) {
	if status == 0 {
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.t.Errorf("mem0test: cannot close the connection without an answer")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			s.t.Errorf("mem0test: hijacking the connection: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n</body>\r\n</html>\r\n", text, text)
}

// writeError answers with the flavor's error shape: FastAPI's {"detail"} for oss,
// {"error"} for the platform (the shape its document gives for 400 and 404).
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

// notModelled answers a request the fake does not simulate, and fails the test: a fake
// that guessed would prove nothing.
func (s *Server) notModelled(w http.ResponseWriter, r *http.Request, what string) {
	s.t.Errorf("mem0test: %s %s: %s is not modelled by the fake; extend internal/mem0test", r.Method, r.URL.RequestURI(), what)
	s.writeError(w, http.StatusNotImplemented, "mem0test: "+what+" is not modelled")
}
