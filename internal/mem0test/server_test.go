package mem0test_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

// recordingTB captures Errorf so a test can expect the fake to report a bad request.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

type call struct {
	method, path, body string
	header             map[string]string
}

func do(t *testing.T, base string, c call) (int, string) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var token = map[string]string{"Authorization": "Token k"}

func TestPlatformReportsRequestsOutsideTheSchema(t *testing.T) {
	tests := []struct {
		name string
		call call
	}{
		{"search without query, top_k not an integer", call{"POST", "/v1/memories/search/", `{"user_id":"u","top_k":"ten"}`, token}},
		{"add with messages not a list", call{"POST", "/v1/memories/", `{"messages":"hi","user_id":"u"}`, token}},
		{"add with metadata not an object", call{"POST", "/v1/memories/", `{"messages":[],"user_id":"u","metadata":"x"}`, token}},
		{"v2 search with filters nested under AND", call{"POST", "/v2/memories/search/", `{"query":"q","filters":{"AND":[{"user_id":"u"}]}}`, token}},
		{"route without its trailing slash", call{"POST", "/v1/memories", `{"messages":[],"user_id":"u"}`, token}},
		{"route of the oss flavor", call{"POST", "/search", `{"query":"q","user_id":"u"}`, token}},
		{"missing Authorization header", call{"GET", "/v1/memories/?user_id=u", "", nil}},
		{"Bearer instead of Token", call{"GET", "/v1/memories/?user_id=u", "", map[string]string{"Authorization": "Bearer k"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			srv := mem0test.NewServer(rec, memorybank.FlavorPlatform)

			status, body := do(t, srv.URL(), tt.call)

			if status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400 (body %s)", status, body)
			}
			got := rec.reported()
			if len(got) != 1 || !strings.Contains(got[0], "OpenAPI") {
				t.Fatalf("reported errors = %q, want one schema violation", got)
			}
			t.Logf("reported: %.300s", got[0])
			if srv.Count() != 0 {
				t.Errorf("an invalid request stored %d memories", srv.Count())
			}
		})
	}
}

// TestPlatformAcceptsWhatMem0Accepts walks every route the fake serves; a false alarm of
// the validator fails it through the real t.
func TestPlatformAcceptsWhatMem0Accepts(t *testing.T) {
	srv := mem0test.NewServer(t, memorybank.FlavorPlatform)
	srv.SetAPIKey("k")

	status, body := do(t, srv.URL(), call{"POST", "/v1/memories/", `{"messages":[{"role":"user","content":"likes green tea"}],"user_id":"u","agent_id":"a","metadata":{"operation_id":"op","n":1},"infer":false,"async_mode":false}`, token})
	var added []struct {
		ID   string `json:"id"`
		Data struct {
			Memory string `json:"memory"`
		} `json:"data"`
		Event string `json:"event"`
	}
	mustDecode(t, status, body, &added)
	if len(added) != 1 || added[0].Event != "ADD" || added[0].Data.Memory != "likes green tea" {
		t.Fatalf("add answered %s", body)
	}
	id := added[0].ID

	status, body = do(t, srv.URL(), call{"POST", "/v1/memories/", `{"messages":[{"role":"user","content":"queued"}],"user_id":"u"}`, token})
	if status != http.StatusOK || !strings.Contains(body, "PENDING") {
		t.Errorf("add without async_mode: %d %s, want a PENDING event", status, body)
	}

	steps := []struct {
		call       call
		wantStatus int
		wantIn     string
	}{
		{call{"GET", "/v1/memories/?user_id=u&agent_id=a", "", token}, 200, "likes green tea"},
		{call{"GET", "/v1/memories/?user_id=u&page=1&page_size=1", "", token}, 200, `"count":2`},
		{call{"POST", "/v1/memories/search/", `{"query":"green tea","user_id":"u","agent_id":"a","top_k":5}`, token}, 200, `"score":1`},
		{call{"POST", "/v2/memories/search/", `{"query":"tea","filters":{"user_id":"u","agent_id":"a"},"top_k":5}`, token}, 200, id},
		{call{"GET", "/v1/memories/" + id + "/", "", token}, 200, `"memory":"likes green tea"`},
		{call{"PUT", "/v1/memories/" + id + "/", `{"text":"likes black tea"}`, token}, 200, `"text":"likes black tea"`},
		{call{"GET", "/v1/memories/" + id + "/history/", "", token}, 200, `"event":"UPDATE"`},
		{call{"DELETE", "/v1/memories/" + id + "/", "", token}, 204, ""},
		{call{"GET", "/v1/memories/" + id + "/", "", token}, 404, "not found"},
		{call{"DELETE", "/v1/memories/?user_id=u", "", token}, 204, ""},
		{call{"GET", "/v1/memories/?user_id=u", "", map[string]string{"Authorization": "Token wrong"}}, 401, "Invalid API key"},
	}
	for _, st := range steps {
		status, body := do(t, srv.URL(), st.call)
		if status != st.wantStatus || !strings.Contains(body, st.wantIn) {
			t.Errorf("%s %s = %d %s, want %d containing %q", st.call.method, st.call.path, status, body, st.wantStatus, st.wantIn)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("Count after delete all = %d", srv.Count())
	}
	if h := srv.History(id); len(h) != 3 || h[2].Event != "DELETE" {
		t.Errorf("History = %+v, want ADD, UPDATE, DELETE", h)
	}
}

func TestOSSRoutes(t *testing.T) {
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)

	status, body := do(t, srv.URL(), call{"POST", "/memories", `{"messages":[{"role":"system","content":"ignored"},{"role":"user","content":"likes green tea"}],"user_id":"u","agent_id":"a","metadata":{"k":"v"},"infer":false}`, nil})
	var added struct {
		Results []struct{ ID, Memory, Event string } `json:"results"`
	}
	mustDecode(t, status, body, &added)
	if len(added.Results) != 1 || added.Results[0].Event != "ADD" {
		t.Fatalf("add answered %s", body)
	}
	id := added.Results[0].ID
	if m := srv.Memories(); len(m) != 1 || m[0].UserID != "u" || m[0].AgentID != "a" || m[0].Metadata["k"] != "v" || m[0].CreatedAt.IsZero() {
		t.Errorf("Memories = %+v", m)
	}

	steps := []struct {
		call       call
		wantStatus int
		wantIn     string
	}{
		{call{"POST", "/memories", `{"messages":[{"role":"user","content":"x"}]}`, nil}, 400, "At least one identifier"},
		{call{"POST", "/memories", `{"user_id":"u"}`, nil}, 422, "Field required"},
		{call{"GET", "/memories?user_id=u", "", nil}, 200, `"results":[{"id":"` + id},
		{call{"GET", "/memories?user_id=other", "", nil}, 200, `{"results":[]}`},
		{call{"POST", "/search", `{"query":"green","user_id":"u","agent_id":"a","limit":3}`, nil}, 200, `"score":1`},
		{call{"POST", "/search", `{"query":"green","filters":{"user_id":"other"}}`, nil}, 200, `{"results":[]}`},
		{call{"GET", "/memories/" + id, "", nil}, 200, `"memory":"likes green tea"`},
		{call{"PUT", "/memories/" + id, `{"text":"likes black tea"}`, nil}, 200, "updated"},
		{call{"GET", "/memories/" + id + "/history", "", nil}, 200, `"new_memory":"likes black tea"`},
		{call{"DELETE", "/memories/" + id, "", nil}, 200, "deleted"},
		{call{"GET", "/memories/" + id, "", nil}, 200, "null"},
		{call{"DELETE", "/memories?user_id=u", "", nil}, 200, "deleted"},
	}
	for _, st := range steps {
		status, body := do(t, srv.URL(), st.call)
		if status != st.wantStatus || !strings.Contains(body, st.wantIn) {
			t.Errorf("%s %s = %d %s, want %d containing %q", st.call.method, st.call.path, status, body, st.wantStatus, st.wantIn)
		}
	}
}

func TestFailuresAndAuth(t *testing.T) {
	for _, flavor := range []memorybank.Flavor{memorybank.FlavorOSS, memorybank.FlavorPlatform} {
		t.Run(string(flavor), func(t *testing.T) {
			srv := mem0test.NewServer(t, flavor)
			list := call{"GET", "/memories?user_id=u", "", map[string]string{"X-API-Key": "k"}}
			if flavor == memorybank.FlavorPlatform {
				list = call{"GET", "/v1/memories/?user_id=u", "", token}
			}

			srv.FailNext(2, http.StatusTooManyRequests)
			for range 2 {
				if status, body := do(t, srv.URL(), list); status != http.StatusTooManyRequests || !strings.Contains(body, "injected failure") {
					t.Errorf("failing request = %d %s", status, body)
				}
			}
			if status, _ := do(t, srv.URL(), list); status != http.StatusOK {
				t.Errorf("after FailNext ran out: %d", status)
			}

			srv.SetDown(true)
			if status, _ := do(t, srv.URL(), list); status != http.StatusServiceUnavailable {
				t.Errorf("while down: %d, want 503", status)
			}
			srv.SetDown(false)

			srv.SetAPIKey("other")
			if status, _ := do(t, srv.URL(), list); status != http.StatusUnauthorized {
				t.Errorf("wrong key: %d, want 401", status)
			}
			srv.SetAPIKey("k")
			if status, _ := do(t, srv.URL(), list); status != http.StatusOK {
				t.Errorf("right key: %d, want 200", status)
			}

			if got := srv.Requests(); got != 6 {
				t.Errorf("Requests = %d, want 6", got)
			}
		})
	}
}

func TestWordOverlap(t *testing.T) {
	tests := []struct {
		query, memory string
		want          float64
	}{
		{"green tea", "Likes green tea.", 1},
		{"green tea", "likes green apples", 0.5},
		{"Green green TEA", "tea", 0.5},
		{"coffee", "likes green tea", 0},
		{"", "anything", 0},
	}
	for _, tt := range tests {
		if got := mem0test.WordOverlap(tt.query, tt.memory); got != tt.want {
			t.Errorf("WordOverlap(%q, %q) = %v, want %v", tt.query, tt.memory, got, tt.want)
		}
	}
}

func mustDecode(t *testing.T, status int, body string, v any) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// mem0's open-source update replaces the metadata with what it is sent, none included;
// a client that wants its tags kept must send them back.
func TestOSSUpdateReplacesMetadata(t *testing.T) {
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	status, body := do(t, srv.URL(), call{"POST", "/memories", `{"messages":[{"role":"user","content":"tea"}],"user_id":"u","metadata":{"k":"v"}}`, nil})
	var added struct {
		Results []struct{ ID string } `json:"results"`
	}
	mustDecode(t, status, body, &added)
	path := "/memories/" + added.Results[0].ID

	if status, body := do(t, srv.URL(), call{"PUT", path, `{"text":"coffee","metadata":{"k":"w"}}`, nil}); status != http.StatusOK {
		t.Fatalf("update with metadata: %d %s", status, body)
	}
	if m := srv.Memories()[0]; m.Memory != "coffee" || m.Metadata["k"] != "w" {
		t.Errorf("after update with metadata: %+v", m)
	}
	if status, body := do(t, srv.URL(), call{"PUT", path, `{"text":"water"}`, nil}); status != http.StatusOK {
		t.Fatalf("update without metadata: %d %s", status, body)
	}
	if m := srv.Memories()[0]; m.Memory != "water" || len(m.Metadata) != 0 {
		t.Errorf("after update without metadata: %+v, want no metadata left", m)
	}
}
