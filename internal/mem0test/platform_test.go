package mem0test_test

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

func platformServer(t *testing.T) (*mem0test.Server, client) {
	srv := mem0test.NewServer(t, memorybank.FlavorPlatform)
	srv.SetAPIKey("k")
	return srv, newClient(t, srv, token("k")...)
}

type platformEvent struct {
	ID        string           `json:"id"`
	EventType string           `json:"event_type"`
	Status    string           `json:"status"`
	Payload   map[string]any   `json:"payload"`
	Results   []map[string]any `json:"results"`
	Error     *string          `json:"error"`
}

// awaitEvent polls an event until it completes and returns it with every status seen.
func awaitEvent(t *testing.T, c client, id string) (platformEvent, []string) {
	t.Helper()
	var ev platformEvent
	var seen []string
	eventually(t, "event "+id+" to complete", func() bool {
		c.decode("GET", "/v1/event/"+id+"/", nil, 200, &ev)
		if len(seen) == 0 || seen[len(seen)-1] != ev.Status {
			seen = append(seen, ev.Status)
		}
		return ev.Status == "SUCCEEDED" || ev.Status == "FAILED"
	})
	return ev, seen
}

func TestPlatformReportsRequestsOutsideTheSchema(t *testing.T) {
	t.Parallel()
	u := map[string]any{"user_id": "u"}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		header []string
		want   int
	}{
		{"search without filters", "POST", "/v3/memories/search/", map[string]any{"query": "q"}, nil, 400},
		{"search with top_k not an integer", "POST", "/v3/memories/search/", map[string]any{"query": "q", "filters": u, "top_k": "ten"}, nil, 400},
		{"search with top_k above 1000", "POST", "/v3/memories/search/", map[string]any{"query": "q", "filters": u, "top_k": 1001}, nil, 400},
		{"search with an empty query", "POST", "/v3/memories/search/", map[string]any{"query": "", "filters": u}, nil, 400},
		{"add with messages not a list", "POST", "/v3/memories/add/", map[string]any{"messages": "hi", "user_id": "u"}, nil, 400},
		{"add with a tool message", "POST", "/v3/memories/add/", map[string]any{"messages": msgs("tool", "x"), "user_id": "u"}, nil, 400},
		{"list with page_size above 200", "POST", "/v3/memories/?page_size=201", map[string]any{"filters": u}, nil, 400},
		{"list without filters", "POST", "/v3/memories/", map[string]any{}, nil, 400},
		{"v1 add with metadata not an object", "POST", "/v1/memories/", map[string]any{"messages": []any{}, "user_id": "u", "metadata": "x"}, nil, 400},
		{"v2 search with filters nested under AND", "POST", "/v2/memories/search/", map[string]any{"query": "q", "filters": map[string]any{"AND": []any{u}}}, nil, 400},
		{"route without its trailing slash", "POST", "/v3/memories/add", map[string]any{"messages": []any{}, "user_id": "u"}, nil, 404},
		{"route of the oss flavor", "POST", "/search", map[string]any{"query": "q", "user_id": "u"}, nil, 404},
		{"missing Authorization header", "GET", "/v1/memories/" + missingUUID + "/", nil, []string{}, 401},
		{"Bearer instead of Token", "GET", "/v1/memories/" + missingUUID + "/", nil, []string{"Authorization", "Bearer k"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingTB{TB: t}
			srv := mem0test.NewServer(rec, memorybank.FlavorPlatform)
			header := token("k")
			if tt.header != nil {
				header = tt.header
			}
			status, body := newClient(t, srv, header...).do(tt.method, tt.path, tt.body)
			if status != tt.want {
				t.Errorf("status = %d, want %d (body %s)", status, tt.want, body)
			}
			got := rec.reported()
			if len(got) != 1 || !strings.Contains(got[0], "OpenAPI") {
				t.Fatalf("reported errors = %q, want one violation of the document", got)
			}
			if srv.Count() != 0 {
				t.Errorf("an invalid request stored %d memories", srv.Count())
			}
		})
	}
}

func TestPlatformAuth(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	path := "/v3/memories/search/" // declares security tokenAuth, an alias of ApiKeyAuth
	body := map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u"}}
	c.expect("POST", path, body, 200)
	newClient(t, srv, token("wrong")...).expect("POST", path, body, 401, "Invalid API key")
}

func TestPlatformAddIsAsynchronous(t *testing.T) {
	t.Parallel()
	t.Run("pending", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(time.Hour)
		var out map[string]any
		c.decode("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", "I like tea"), "user_id": "u"}, 200, &out)
		if keys := slices.Sorted(maps.Keys(out)); !slices.Equal(keys, []string{"event_id", "status"}) || out["status"] != "PENDING" {
			t.Fatalf("add answered %v, want only a PENDING event", out)
		}
		var ev platformEvent
		c.decode("GET", "/v1/event/"+out["event_id"].(string)+"/", nil, 200, &ev)
		if ev.Status != "PENDING" || ev.EventType != "ADD" || len(ev.Results) != 0 || ev.Payload["user_id"] != "u" || srv.Count() != 0 {
			t.Errorf("event = %+v with Count %d, want PENDING with nothing stored", ev, srv.Count())
		}
	})
	t.Run("succeeds attributed to the speaker", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(5 * time.Millisecond)
		var hooked atomic.Int32
		srv.AfterAdd(func() { hooked.Add(1) })
		var out struct {
			EventID string `json:"event_id"`
		}
		c.decode("POST", "/v3/memories/add/", map[string]any{
			"messages": msgs("user", "I like tea", "assistant", "Noted."), "user_id": "u", "agent_id": "a",
			"metadata": map[string]any{"operation_id": "op"},
		}, 200, &out)
		ev, seen := awaitEvent(t, c, out.EventID)
		if ev.Status != "SUCCEEDED" || ev.Error != nil {
			t.Fatalf("event = %+v", ev)
		}
		if !isSubsequence(seen, []string{"PENDING", "RUNNING", "SUCCEEDED"}) {
			t.Errorf("statuses seen %v, want PENDING, RUNNING, SUCCEEDED in order", seen)
		}
		m := srv.Memories()
		if len(ev.Results) != 1 || len(m) != 1 {
			t.Fatalf("results %v, memories %+v, want one", ev.Results, m)
		}
		r := ev.Results[0]
		if r["id"] != m[0].ID || r["event"] != "ADD" || r["user_id"] != "u" || r["data"].(map[string]any)["memory"] != "I like tea" {
			t.Errorf("result = %v", r)
		}
		if m[0].UserID != "u" || m[0].AgentID != "" || m[0].Metadata["operation_id"] != "op" {
			t.Errorf("memory = %+v, want the user's fact with user_id and without agent_id", m[0])
		}
		eventually(t, "the AfterAdd hook", func() bool { return hooked.Load() == 1 })

		// What only the assistant said is the agent's.
		c.decode("POST", "/v3/memories/add/", map[string]any{"messages": msgs("assistant", "Booked your flight"), "user_id": "u", "agent_id": "a"}, 200, &out)
		awaitEvent(t, c, out.EventID)
		m = srv.Memories()
		if len(m) != 2 || m[1].AgentID != "a" || m[1].UserID != "" {
			t.Errorf("memories = %+v, want the assistant's fact with agent_id only", m)
		}
	})
	t.Run("inferred facts", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(time.Millisecond)
		for _, tt := range []struct {
			facts int
			text  string
			want  int
		}{{2, "I walk daily", 2}, {0, "hello", 0}, {1, "I walk daily", 0}} { // the last repeats a stored fact
			srv.SetInferredFacts(tt.facts)
			var out struct {
				EventID string `json:"event_id"`
			}
			c.decode("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", tt.text), "user_id": "u"}, 200, &out)
			if ev, _ := awaitEvent(t, c, out.EventID); len(ev.Results) != tt.want {
				t.Errorf("SetInferredFacts(%d) on %q: results %v, want %d", tt.facts, tt.text, ev.Results, tt.want)
			}
		}
		if srv.Count() != 2 {
			t.Errorf("Count = %d, want 2", srv.Count())
		}
	})
	t.Run("failed", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(time.Millisecond)
		srv.FailNextEvents(1)
		var out struct {
			EventID string `json:"event_id"`
		}
		c.decode("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", "I like tea"), "user_id": "u"}, 200, &out)
		if ev, _ := awaitEvent(t, c, out.EventID); ev.Status != "FAILED" || ev.Error == nil || *ev.Error == "" || srv.Count() != 0 {
			t.Errorf("event = %+v, Count %d, want FAILED with an error and nothing stored", ev, srv.Count())
		}
		c.decode("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", "I like tea"), "user_id": "u"}, 200, &out)
		if ev, _ := awaitEvent(t, c, out.EventID); ev.Status != "SUCCEEDED" || srv.Count() != 1 {
			t.Errorf("next event = %+v, Count %d", ev, srv.Count())
		}
	})
	t.Run("no entity id", func(t *testing.T) {
		t.Parallel()
		_, c := platformServer(t)
		c.expect("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", "x")}, 400, "required")
	})
}

func isSubsequence(seen, order []string) bool {
	i := 0
	for _, s := range seen {
		for i < len(order) && order[i] != s {
			i++
		}
		if i == len(order) {
			return false
		}
	}
	return len(seen) > 0 && seen[len(seen)-1] == order[len(order)-1]
}

func TestPlatformDirectImport(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	var out struct {
		Message string           `json:"message"`
		Status  string           `json:"status"`
		EventID string           `json:"event_id"`
		Results []map[string]any `json:"results"`
	}
	body := map[string]any{
		"messages": msgs("system", "dropped", "user", "Alice loves badminton", "assistant", "Alice is a fitness freak"),
		"user_id":  "alice", "agent_id": "coach", "infer": false,
	}
	c.decode("POST", "/v3/memories/add/", body, 200, &out)
	if out.Message != "Memories stored successfully" || out.Status != "SUCCEEDED" || out.EventID == "" || len(out.Results) != 2 {
		t.Fatalf("direct import answered %+v", out)
	}
	for _, m := range srv.Memories() {
		if m.UserID != "alice" || m.AgentID != "coach" {
			t.Errorf("memory %+v, want both entity ids on a direct import", m)
		}
	}
	if ev, _ := awaitEvent(t, c, out.EventID); ev.Status != "SUCCEEDED" || len(ev.Results) != 2 {
		t.Errorf("event = %+v", ev)
	}

	body["messages"] = msgs("user", "Alice loves badminton", "user", "Alice cooks at home")
	c.decode("POST", "/v3/memories/add/", body, 200, &out)
	if len(out.Results) != 1 || out.Results[0]["data"].(map[string]any)["memory"] != "Alice cooks at home" || srv.Count() != 3 {
		t.Errorf("repeat answered %+v with Count %d, want the exact repeat skipped", out.Results, srv.Count())
	}
	// Another scope is another scope.
	body["agent_id"] = "other"
	c.decode("POST", "/v3/memories/add/", body, 200, &out)
	if len(out.Results) != 2 {
		t.Errorf("same texts in another scope stored %d", len(out.Results))
	}
}

func TestPlatformEventNotFound(t *testing.T) {
	t.Parallel()
	_, c := platformServer(t)
	c.expect("GET", "/v1/event/"+missingUUID+"/", nil, 404, `{"error":"Event not found or you don't have permission to access it."}`)
}

type page struct {
	Count    int              `json:"count"`
	Next     *string          `json:"next"`
	Previous *string          `json:"previous"`
	Results  []map[string]any `json:"results"`
}

func TestPlatformListV3Pages(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	var facts []string
	for i := range 30 {
		facts = append(facts, fmt.Sprintf("fact %02d", i))
	}
	added := addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, facts...)
	addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "other"}, "not u's")
	filters := map[string]any{"filters": map[string]any{"user_id": "u"}}

	var p page
	c.decode("POST", "/v3/memories/", filters, 200, &p)
	if p.Count != 30 || len(p.Results) != 30 || p.Next != nil || p.Previous != nil {
		t.Errorf("default page: count %d, %d results, next %v, previous %v", p.Count, len(p.Results), p.Next, p.Previous)
	}
	all := ids(p.Results)

	var walked []string
	path := "/v3/memories/?page=1&page_size=7"
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		c.decode("POST", path, filters, 200, &p)
		if p.Count != 30 {
			t.Errorf("count = %d", p.Count)
		}
		if (pages == 0) != (p.Previous == nil) {
			t.Errorf("page %d: previous = %v", pages+1, p.Previous)
		}
		walked = append(walked, ids(p.Results)...)
		path = ""
		if p.Next != nil {
			if !strings.HasPrefix(*p.Next, srv.URL()+"/v3/memories/?") {
				t.Fatalf("next = %s, want an absolute URL", *p.Next)
			}
			u, err := url.Parse(*p.Next)
			if err != nil {
				t.Fatal(err)
			}
			path = u.RequestURI()
		}
	}
	if !slices.Equal(walked, all) {
		t.Errorf("the pages do not list the scope once, in the order of one listing")
	}
	if slices.Equal(walked, added) {
		t.Errorf("the list is in insertion order; mem0 lists in its store's order, not by date")
	}
	c.expect("POST", "/v3/memories/?page=6&page_size=7", filters, 404, "Invalid page.")
	c.expect("POST", "/v3/memories/", map[string]any{"filters": map[string]any{"user_id": "u"}, "user_id": "u"}, 400, "Top-level")
	c.expect("POST", "/v3/memories/", map[string]any{"filters": map[string]any{"metadata": map[string]any{"k": "v"}}}, 400, "required")
	c.expect("POST", "/v3/memories/", map[string]any{"filters": map[string]any{"NOT": map[string]any{"user_id": "u"}}}, 400, "required")
	c.expect("POST", "/v3/memories/", map[string]any{"filters": map[string]any{"user_id": "u", "bogus_key": "z"}}, 400, "Top-level key must be a logical operator or an allowed field")

	item := p.Results[0]
	for _, k := range []string{"id", "memory", "user_id", "agent_id", "app_id", "session_id", "metadata", "categories", "created_at", "updated_at"} {
		if !hasKey(item, k) {
			t.Errorf("list item %v lacks %s", item, k)
		}
	}
}

func TestPlatformFilters(t *testing.T) {
	t.Parallel()
	_, c := platformServer(t)
	add := func(text string, scope, metadata map[string]any) string {
		body := map[string]any{"messages": msgs("user", text), "infer": false}
		maps.Copy(body, scope)
		if metadata != nil {
			body["metadata"] = metadata
		}
		var out struct{ Results []struct{ ID string } }
		c.decode("POST", "/v3/memories/add/", body, 200, &out)
		return out.Results[0].ID
	}
	add("tea a", map[string]any{"user_id": "u"}, map[string]any{"operation_id": "op1"})
	idB := add("tea b", map[string]any{"user_id": "u", "agent_id": "x"}, map[string]any{"operation_id": "op2"})
	add("tea c", map[string]any{"agent_id": "x"}, nil)

	for _, tt := range []struct {
		name    string
		filters map[string]any
		want    []string
	}{
		{"user", map[string]any{"user_id": "u"}, []string{"tea a", "tea b"}},
		{"user and agent only match records holding both", map[string]any{"user_id": "u", "agent_id": "x"}, []string{"tea b"}},
		{"explicit AND", map[string]any{"AND": []any{map[string]any{"user_id": "u"}, map[string]any{"agent_id": "x"}}}, []string{"tea b"}},
		{"OR", map[string]any{"OR": []any{map[string]any{"user_id": "u"}, map[string]any{"agent_id": "x"}}}, []string{"tea a", "tea b", "tea c"}},
		{"metadata pair", map[string]any{"user_id": "u", "metadata": map[string]any{"operation_id": "op1"}}, []string{"tea a"}},
		{"metadata ne", map[string]any{"user_id": "u", "metadata": map[string]any{"operation_id": map[string]any{"ne": "op1"}}}, []string{"tea b"}},
		{"memory ids", map[string]any{"user_id": "u", "memory_ids": []any{idB}}, []string{"tea b"}},
		{"wildcard skips nulls", map[string]any{"user_id": "*"}, []string{"tea a", "tea b"}},
		{"ne with a wildcard guard", map[string]any{"AND": []any{map[string]any{"agent_id": "*"}, map[string]any{"agent_id": map[string]any{"ne": "y"}}}}, []string{"tea b", "tea c"}},
		{"in", map[string]any{"user_id": map[string]any{"in": []any{"u", "zz"}}}, []string{"tea a", "tea b"}},
		{"OR beside AND is dropped", map[string]any{"AND": []any{map[string]any{"user_id": "u"}}, "OR": []any{map[string]any{"agent_id": "x"}}}, []string{"tea a", "tea b"}},
		{"NOT", map[string]any{"user_id": "u", "NOT": map[string]any{"metadata": map[string]any{"operation_id": "op1"}}}, []string{"tea b"}},
		{"keywords", map[string]any{"user_id": "u", "keywords": map[string]any{"icontains": "TEA A"}}, []string{"tea a"}},
	} {
		var p page
		c.decode("POST", "/v3/memories/", map[string]any{"filters": tt.filters}, 200, &p)
		if got := texts(p.Results); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	c.expect("POST", "/v3/memories/", map[string]any{"filters": map[string]any{"user_id": "u", "metadata": map[string]any{"operation_id": map[string]any{"in": []any{"op1"}}}}}, 400, "FilterValidationError")
	c.expect("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u", "keywords": map[string]any{"icontains": "tea"}}}, 500)
}

func TestPlatformSearchV3(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	var facts []string
	for i := range 15 {
		facts = append(facts, fmt.Sprintf("tea fact %d", i))
	}
	addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, facts...)
	addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, "likes green tea", "likes green apples")
	u := map[string]any{"user_id": "u"}

	var out struct{ Results []map[string]any }
	c.decode("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": u}, 200, &out)
	if len(out.Results) != 10 {
		t.Errorf("default search returned %d, want top_k=10", len(out.Results))
	}
	c.decode("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": u, "top_k": 12, "rerank": true}, 200, &out)
	if len(out.Results) != 12 {
		t.Errorf("top_k=12 returned %d", len(out.Results))
	}
	c.decode("POST", "/v3/memories/search/", map[string]any{"query": "green tea", "filters": u}, 200, &out)
	last := math.Inf(1)
	for _, item := range out.Results {
		score, err := scoreOf(item)
		if err != nil || score < 0 || score > 1 || score > last {
			t.Errorf("%v: score %v (%v), want 0..1, best first", item["memory"], score, err)
		}
		if !hasKey(item, "run_id") || hasKey(item, "session_id") {
			t.Errorf("search item %v, want run_id rather than session_id", item)
		}
		last = score
	}
	if len(out.Results) == 0 || out.Results[0]["memory"] != "likes green tea" {
		t.Fatalf("best hit = %v", texts(out.Results))
	}
	if s, _ := scoreOf(out.Results[0]); s >= 1 {
		t.Errorf("a perfect semantic match scored %v; the keyword signal halves the scale", s)
	}
	c.expect("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": u, "user_id": "u"}, 400, "Top-level")
	c.expect("POST", "/v3/memories/search/", map[string]any{"query": "   ", "filters": u}, 400)
	c.expect("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": map[string]any{"run_id": map[string]any{"ne": "r"}}}, 400, "required")

	srv.SetScorer(func(_, memory string) float64 {
		if strings.HasPrefix(memory, "likes") {
			return 0.05
		}
		return 0.5
	})
	c.decode("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": u, "top_k": 100}, 200, &out)
	if len(out.Results) != 15 {
		t.Errorf("default threshold kept %d, want the 15 above 0.1", len(out.Results))
	}
	c.decode("POST", "/v3/memories/search/", map[string]any{"query": "tea", "filters": u, "top_k": 100, "threshold": 0}, 200, &out)
	if len(out.Results) != 17 {
		t.Errorf("threshold 0 kept %d, want all 17", len(out.Results))
	}
}

func TestPlatformMemoryRoutes(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	c.expect("POST", "/v3/memories/add/", map[string]any{"messages": msgs("user", "likes tea"), "user_id": "u", "run_id": "r", "infer": false, "metadata": map[string]any{"a": 1}}, 200)
	id := srv.Memories()[0].ID
	path := "/v1/memories/" + id + "/"

	var item map[string]any
	c.decode("GET", path, nil, 200, &item)
	if item["memory"] != "likes tea" || item["session_id"] != "r" || item["user_id"] != "u" || item["agent_id"] != nil {
		t.Errorf("get = %v", item)
	}
	c.decode("PUT", path, map[string]any{"text": "likes coffee"}, 200, &item)
	if item["memory"] != "likes coffee" || item["metadata"].(map[string]any)["a"] != float64(1) {
		t.Errorf("update = %v, want the new text and the metadata kept", item)
	}
	c.decode("PUT", path, map[string]any{"metadata": map[string]any{"b": 2}}, 200, &item)
	if md := item["metadata"].(map[string]any); md["a"] != float64(1) || md["b"] != float64(2) || item["memory"] != "likes coffee" {
		t.Errorf("metadata update = %v, want it merged", item)
	}
	c.expect("PUT", path, map[string]any{}, 400)
	c.expect("PUT", "/v1/memories/"+missingUUID+"/", map[string]any{"text": "x"}, 404, `{"error":"Memory not found!"}`)
	c.expect("GET", "/v1/memories/"+missingUUID+"/", nil, 404, `{"error":"Memory not found!"}`)
	c.expect("GET", "/v1/memories/not-a-uuid/", nil, 400, "memory_id should be a valid UUID")

	c.expect("DELETE", path, nil, 200, `{"message":"Memory deleted successfully!"}`)
	c.expect("GET", path, nil, 404)
	c.expect("DELETE", path, nil, 404, "Memory not found!")
	var history []map[string]any
	c.decode("GET", path+"history/", nil, 200, &history)
	var events []any
	for _, h := range history {
		events = append(events, h["event"])
	}
	if !slices.Equal(events, []any{"ADD", "UPDATE", "UPDATE", "DELETE"}) || history[3]["new_memory"] != nil || history[1]["old_memory"] != "likes tea" {
		t.Errorf("history = %v", history)
	}
	if in, _ := history[0]["input"].([]any); len(in) != 1 {
		t.Errorf("the ADD's input = %v, want the message", history[0]["input"])
	}
}

func TestPlatformDeleteAllIsAsynchronous(t *testing.T) {
	t.Parallel()
	t.Run("in progress", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(time.Hour)
		addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, "one", "two")
		c.expect("DELETE", "/v1/memories/?user_id=u", nil, 200, `"message":"Delete in progress. This may take some time."`, `"event_id"`)
		if srv.Count() != 2 {
			t.Errorf("Count = %d right after the answer, want nothing deleted yet", srv.Count())
		}
		c.expect("DELETE", "/v1/memories/", nil, 400)
	})
	t.Run("done", func(t *testing.T) {
		t.Parallel()
		srv, c := platformServer(t)
		srv.SetEventDelay(time.Millisecond)
		addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, "one", "two")
		addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u", "run_id": "r"}, "three")
		addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "v"}, "four")
		addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"agent_id": "a"}, "five")
		var out struct {
			EventID string `json:"event_id"`
		}
		c.decode("DELETE", "/v1/memories/?user_id=u&run_id=r", nil, 200, &out)
		if ev, _ := awaitEvent(t, c, out.EventID); ev.Status != "SUCCEEDED" || ev.EventType != "DELETE" || srv.Count() != 4 {
			t.Errorf("event %+v, Count %d, want u/r's one memory deleted", ev, srv.Count())
		}
		c.decode("DELETE", "/v1/memories/?user_id=*", nil, 200, &out)
		awaitEvent(t, c, out.EventID)
		if m := srv.Memories(); len(m) != 1 || m[0].Memory != "five" {
			t.Errorf("after user_id=*: %+v, want only the agent's memory", m)
		}
	})
}

func TestPlatformRejectDeprecated(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	srv.SetRejectDeprecated(true)
	deprecated := []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/memories/", map[string]any{"messages": msgs("user", "x"), "user_id": "u"}},
		{"GET", "/v1/memories/?user_id=u", nil},
		{"POST", "/v1/memories/search/", map[string]any{"query": "x", "user_id": "u"}},
		{"POST", "/v2/memories/search/", map[string]any{"query": "x", "filters": map[string]any{"user_id": "u"}}},
		{"POST", "/v2/memories/", map[string]any{"filters": map[string]any{"user_id": "u"}}},
	}
	for _, d := range deprecated {
		c.expect(d.method, d.path, d.body, http.StatusGone)
	}
	id := addVerbatim(t, c, memorybank.FlavorPlatform, map[string]any{"user_id": "u"}, "likes tea")[0]
	c.expect("GET", "/v1/memories/"+id+"/", nil, 200)
	calls := srv.Calls()
	if len(calls) != len(deprecated)+2 || calls[1].Method != "GET" || calls[1].Path != "/v1/memories/" || calls[1].RawQuery != "user_id=u" {
		t.Errorf("Calls = %+v, want the refused calls recorded", calls)
	}
}

func TestPlatformDeprecatedRoutesStillServed(t *testing.T) {
	t.Parallel()
	srv, c := platformServer(t)
	srv.SetEventDelay(time.Millisecond)
	var queued []map[string]any
	c.decode("POST", "/v1/memories/", map[string]any{"messages": msgs("user", "likes tea"), "user_id": "u", "infer": false}, 200, &queued)
	if len(queued) != 1 || queued[0]["status"] != "SUCCEEDED" || srv.Count() != 1 {
		t.Errorf("v1 add without inference = %v, Count %d", queued, srv.Count())
	}
	c.decode("POST", "/v1/memories/", map[string]any{"messages": msgs("user", "likes green tea"), "user_id": "u"}, 200, &queued)
	if len(queued) != 1 || queued[0]["status"] != "PENDING" {
		t.Fatalf("v1 add = %v", queued)
	}
	awaitEvent(t, c, queued[0]["event_id"].(string))

	var list []map[string]any
	c.decode("GET", "/v1/memories/?user_id=u", nil, 200, &list)
	if got := texts(list); !slices.Equal(got, []string{"likes green tea", "likes tea"}) {
		t.Errorf("v1 list = %v", got)
	}
	var p page
	c.decode("GET", "/v1/memories/?user_id=u&page=1&page_size=1", nil, 200, &p)
	if p.Count != 2 || len(p.Results) != 1 || p.Next == nil {
		t.Errorf("v1 paged list = %+v", p)
	}
	c.decode("POST", "/v1/memories/search/", map[string]any{"query": "green tea", "user_id": "u"}, 200, &list)
	if len(list) != 2 || list[0]["memory"] != "likes green tea" {
		t.Errorf("v1 search = %v", list)
	}
	c.decode("POST", "/v2/memories/search/", map[string]any{"query": "green tea", "filters": map[string]any{"user_id": "u"}}, 200, &list)
	if len(list) != 2 || list[0]["memory"] != "likes green tea" {
		t.Errorf("v2 search = %v (threshold 0.3 keeps both)", list)
	}
}

func TestPlatformUnmodelledOperationsAreReported(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	srv := mem0test.NewServer(rec, memorybank.FlavorPlatform)
	newClient(t, srv, token("k")...).expect("GET", "/v1/entities/", nil, http.StatusNotImplemented)
	if got := rec.reported(); len(got) != 1 || !strings.Contains(got[0], "not modelled") {
		t.Errorf("reported %q", got)
	}
}
