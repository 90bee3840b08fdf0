package mem0test_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// client calls a fake with fixed headers.
type client struct {
	t      *testing.T
	base   string
	header map[string]string
}

func newClient(t *testing.T, srv *mem0test.Server, header ...string) client {
	c := client{t: t, base: srv.URL(), header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		c.header[header[i]] = header[i+1]
	}
	return c
}

// do sends body (a string is sent as is, anything else as JSON) and returns the answer.
func (c client) do(method, path string, body any) (int, string) {
	c.t.Helper()
	status, b, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, b
}

func (c client) try(method, path string, body any) (int, string, error) {
	c.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// decode calls and decodes a JSON answer of the wanted status into v.
func (c client) decode(method, path string, body any, want int, v any) {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(b), v); err != nil {
		c.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
	}
}

// expect checks status and that the body contains every fragment.
func (c client) expect(method, path string, body any, want int, fragments ...string) string {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != want {
		c.t.Errorf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	for _, f := range fragments {
		if !strings.Contains(b, f) {
			c.t.Errorf("%s %s = %s, want it to contain %s", method, path, b, f)
		}
	}
	return b
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func msgs(pairs ...string) []map[string]string {
	var out []map[string]string
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]string{"role": pairs[i], "content": pairs[i+1]})
	}
	return out
}

// addVerbatim stores texts without inference in either flavor and returns their ids.
func addVerbatim(t *testing.T, c client, flavor memorybank.Flavor, scope map[string]any, texts ...string) []string {
	t.Helper()
	var m []map[string]string
	for _, text := range texts {
		m = append(m, map[string]string{"role": "user", "content": text})
	}
	body := map[string]any{"messages": m, "infer": false}
	for k, v := range scope {
		body[k] = v
	}
	var ids []string
	if flavor == memorybank.FlavorOSS {
		var out struct{ Results []struct{ ID string } }
		c.decode("POST", "/memories", body, 200, &out)
		for _, r := range out.Results {
			ids = append(ids, r.ID)
		}
	} else {
		var out struct{ Results []struct{ ID string } }
		c.decode("POST", "/v3/memories/add/", body, 200, &out)
		for _, r := range out.Results {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != len(texts) {
		t.Fatalf("stored %d of %d texts", len(ids), len(texts))
	}
	return ids
}

var flavors = []memorybank.Flavor{memorybank.FlavorOSS, memorybank.FlavorPlatform}

func token(key string) []string { return []string{"Authorization", "Token " + key} }

// routes of each flavor for the shared tests.
type flavorRoutes struct {
	add    func(text string) (string, any)
	search func(query string) (string, any)
	list   func() (string, any)
	method string // of list
}

func routesOf(flavor memorybank.Flavor) flavorRoutes {
	if flavor == memorybank.FlavorOSS {
		return flavorRoutes{
			add: func(text string) (string, any) {
				return "/memories", map[string]any{"messages": msgs("user", text), "user_id": "u", "infer": false}
			},
			search: func(q string) (string, any) {
				return "/search", map[string]any{"query": q, "filters": map[string]any{"user_id": "u"}}
			},
			list:   func() (string, any) { return "/memories?user_id=u", nil },
			method: "GET",
		}
	}
	return flavorRoutes{
		add: func(text string) (string, any) {
			return "/v3/memories/add/", map[string]any{"messages": msgs("user", text), "user_id": "u", "infer": false}
		},
		search: func(q string) (string, any) {
			return "/v3/memories/search/", map[string]any{"query": q, "filters": map[string]any{"user_id": "u"}}
		},
		list: func() (string, any) {
			return "/v3/memories/", map[string]any{"filters": map[string]any{"user_id": "u"}}
		},
		method: "POST",
	}
}

func TestLostAnswersAreCarriedOut(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			c := newClient(t, srv, token("k")...)
			routes := routesOf(flavor)

			srv.LoseNextAnswers(2, http.StatusGatewayTimeout)
			path, body := routes.search("tea") // a read does not use up a lost answer
			c.expect("POST", path, body, 200)
			path, body = routes.add("likes tea")
			status, answer := c.do("POST", path, body)
			if status != http.StatusGatewayTimeout || !strings.Contains(answer, "<html>") {
				t.Errorf("first add = %d %s, want the proxy's 504 page", status, answer)
			}
			if srv.Count() != 1 {
				t.Errorf("Count = %d after a lost answer, want the add carried out", srv.Count())
			}
			path, body = routes.add("likes coffee")
			if status, _ := c.do("POST", path, body); status != http.StatusGatewayTimeout {
				t.Errorf("second add = %d, want 504", status)
			}
			path, body = routes.add("likes water")
			c.expect("POST", path, body, 200)

			srv.LoseNextAnswers(1, 0)
			path, body = routes.add("likes juice")
			if status, answer, err := c.try("POST", path, body); err == nil {
				t.Errorf("add with the connection closed = %d %s, want a transport error", status, answer)
			}
			if srv.Count() != 4 {
				t.Errorf("Count = %d, want 4: every add was carried out", srv.Count())
			}
			path, body = routes.add("likes milk")
			c.expect("POST", path, body, 200)
		})
	}
}

func TestFailuresDoNothing(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			c := newClient(t, srv, token("k")...)
			path, body := routesOf(flavor).add("likes tea")

			srv.FailNext(2, http.StatusTooManyRequests)
			for range 2 {
				c.expect("POST", path, body, http.StatusTooManyRequests, "injected failure")
			}
			if srv.Count() != 0 {
				t.Errorf("a failed add stored %d memories", srv.Count())
			}
			c.expect("POST", path, body, 200)

			srv.SetDown(true)
			c.expect("POST", path, body, http.StatusServiceUnavailable)
			srv.SetDown(false)
			if srv.Count() != 1 {
				t.Errorf("Count = %d, want 1", srv.Count())
			}
			if got := srv.Requests(); got != 4 {
				t.Errorf("Requests = %d, want 4", got)
			}
		})
	}
}

func TestCallsRecordsEveryRequest(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			c := newClient(t, srv, token("k")...)
			routes := routesOf(flavor)
			srv.FailNext(1, http.StatusInternalServerError)
			path, body := routes.add("likes tea")
			c.do("POST", path, body)
			listPath, listBody := routes.list()
			c.do(routes.method, listPath, listBody)

			want := []mem0test.Call{{Method: "POST", Path: path}}
			p, q, _ := strings.Cut(listPath, "?")
			want = append(want, mem0test.Call{Method: routes.method, Path: p, RawQuery: q})
			if got := srv.Calls(); !slices.Equal(got, want) {
				t.Errorf("Calls = %+v, want %+v", got, want)
			}
		})
	}
}

func TestEntityIDsAreTrimmedAndChecked(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			c := newClient(t, srv, token("k")...)
			path, _ := routesOf(flavor).add("")
			add := func(userID string) (int, string) {
				return c.do("POST", path, map[string]any{"messages": msgs("user", "likes tea"), "user_id": userID, "infer": false})
			}
			if status, body := add("  alice  "); status != 200 {
				t.Fatalf("add with a padded id = %d %s", status, body)
			}
			if m := srv.Memories(); len(m) != 1 || m[0].UserID != "alice" {
				t.Errorf("Memories = %+v, want user_id trimmed to alice", m)
			}
			for _, bad := range []string{"al ice", "   "} {
				if status, body := add(bad); status != http.StatusBadRequest || !strings.Contains(body, "Invalid user_id") {
					t.Errorf("add with user_id %q = %d %s, want 400 Invalid user_id", bad, status, body)
				}
			}
			if srv.Count() != 1 {
				t.Errorf("Count = %d, want 1", srv.Count())
			}
		})
	}
}

func TestMetadataCannotSetIdentity(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			c := newClient(t, srv, token("k")...)
			path, _ := routesOf(flavor).add("")
			c.expect("POST", path, map[string]any{
				"messages": msgs("user", "likes tea"), "user_id": "alice", "infer": false,
				"metadata": map[string]any{"user_id": "mallory", "agent_id": "x", "run_id": "y", "actor_id": "z", "operation_id": "op"},
			}, 200)
			m := srv.Memories()
			if len(m) != 1 || m[0].UserID != "alice" || m[0].AgentID != "" || m[0].RunID != "" || m[0].ActorID != "" {
				t.Fatalf("Memories = %+v, want alice's memory only", m)
			}
			if len(m[0].Metadata) != 1 || m[0].Metadata["operation_id"] != "op" {
				t.Errorf("Metadata = %v, want only operation_id", m[0].Metadata)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			srv.SetEventDelay(time.Millisecond)
			c := newClient(t, srv, token("k")...)
			routes := routesOf(flavor)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					path, body := routes.add(fmt.Sprintf("fact %d", i))
					if status, b, err := c.try("POST", path, body); err != nil || status != 200 {
						t.Errorf("add %d = %d %s %v", i, status, b, err)
					}
					path, body = routes.search("fact")
					if status, b, err := c.try("POST", path, body); err != nil || status != 200 {
						t.Errorf("search %d = %d %s %v", i, status, b, err)
					}
					_ = srv.Memories()
					_ = srv.Calls()
				})
			}
			wg.Wait()
			if srv.Count() != 8 {
				t.Errorf("Count = %d, want 8", srv.Count())
			}
		})
	}
}

func TestWordOverlap(t *testing.T) {
	t.Parallel()
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

var errNoScore = errors.New("no score")

// scoreOf reads "score" of a search result.
func scoreOf(item map[string]any) (float64, error) {
	f, ok := item["score"].(float64)
	if !ok {
		return 0, errNoScore
	}
	return f, nil
}
