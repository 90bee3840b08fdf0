package mem0test_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

const missingUUID = "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293"

func ossServer(t *testing.T) (*mem0test.Server, client) {
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	return srv, newClient(t, srv)
}

type ossResults struct {
	Results []map[string]any `json:"results"`
}

func ids(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprint(it["id"]))
	}
	return out
}

func texts(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprint(it["memory"]))
	}
	slices.Sort(out)
	return out
}

func TestOSSAuth(t *testing.T) {
	t.Parallel()
	t.Run("disabled until a credential is set", func(t *testing.T) {
		t.Parallel()
		srv, anon := ossServer(t)
		addVerbatim(t, anon, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes tea")
		anon.expect("GET", "/memories", nil, 200, "likes tea") // every caller is admin
		// A key is still looked up, and there is none: server/auth.py refuses it.
		newClient(t, srv, "X-API-Key", "anything").expect("GET", "/memories?user_id=u", nil, 401, "Invalid API key.")
		newClient(t, srv, "Authorization", "Bearer anything").expect("GET", "/memories?user_id=u", nil, 401, "Invalid or expired token.")
		anon.expect("DELETE", "/memories?user_id=u", nil, 200)
		if srv.Count() != 0 {
			t.Errorf("Count = %d after delete all", srv.Count())
		}
	})
	t.Run("per-user key is not an admin", func(t *testing.T) {
		t.Parallel()
		srv, anon := ossServer(t)
		srv.SetAPIKey("user-key")
		user := newClient(t, srv, "X-API-Key", "user-key")
		anon.expect("GET", "/memories?user_id=u", nil, 401, "Authentication required")
		addVerbatim(t, user, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes tea")
		user.expect("GET", "/memories?user_id=u", nil, 200, "likes tea")
		user.expect("GET", "/memories", nil, 403, "Admin role required to list all memories.")
		user.expect("DELETE", "/memories?user_id=u", nil, 403, `"Admin role required."`)
		newClient(t, srv, "Authorization", "Bearer user-key").expect("GET", "/memories?user_id=u", nil, 401, "Invalid or expired token.")
		newClient(t, srv, "X-API-Key", "other").expect("GET", "/memories?user_id=u", nil, 401, "Invalid API key.")
		if srv.Count() != 1 {
			t.Errorf("Count = %d, want the refused delete to leave 1", srv.Count())
		}
	})
	t.Run("admin key", func(t *testing.T) {
		t.Parallel()
		srv, _ := ossServer(t)
		srv.SetAPIKey("user-key")
		srv.SetAdminKey("admin-key")
		admin := newClient(t, srv, "X-API-Key", "admin-key")
		addVerbatim(t, newClient(t, srv, "X-API-Key", "user-key"), memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes tea")
		admin.expect("GET", "/memories", nil, 200, "likes tea")
		admin.expect("DELETE", "/memories?user_id=u", nil, 200, "All relevant memories deleted")
		if srv.Count() != 0 {
			t.Errorf("Count = %d after the admin's delete all", srv.Count())
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		t.Parallel()
		srv, _ := ossServer(t)
		srv.SetAPIKey("user-key")
		srv.SetBearerToken("jwt")
		newClient(t, srv, "Authorization", "Bearer jwt").expect("GET", "/memories?user_id=u", nil, 200)
		newClient(t, srv, "Authorization", "Bearer jwt").expect("DELETE", "/memories?user_id=u", nil, 403)
		// The Bearer credential is read first: a bad one fails even beside a good key.
		newClient(t, srv, "Authorization", "Bearer bad", "X-API-Key", "user-key").expect("GET", "/memories?user_id=u", nil, 401)
	})
}

func TestOSSAddValidation(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	one := msgs("user", "likes tea")
	c.expect("POST", "/memories", map[string]any{"user_id": "u"}, 422, `"loc":["body","messages"]`, `"type":"missing"`)
	c.expect("POST", "/memories", `{"messages":[{"role":"user","content":5}],"user_id":"u"}`, 422, `"string_type"`)
	c.expect("POST", "/memories", "{not json", 422, "json_invalid")
	c.expect("POST", "/memories", map[string]any{"messages": one}, 400, "At least one identifier (user_id, agent_id, run_id) is required.")
	c.expect("POST", "/memories", map[string]any{"messages": one, "user_id": ""}, 400, "At least one identifier")
	c.expect("POST", "/memories", map[string]any{"messages": one, "user_id": "u", "agent_id": ""}, 400, "Invalid agent_id: cannot be empty")
	c.expect("POST", "/memories", map[string]any{"messages": one, "user_id": "u", "memory_type": "core"}, 400, "memory_type")
	c.expect("POST", "/memories", map[string]any{"messages": one, "user_id": "u", "expiration_date": "soon"}, 400, "YYYY-MM-DD")
	if srv.Count() != 0 {
		t.Errorf("refused adds stored %d memories", srv.Count())
	}
}

func TestOSSAddInfersByDefault(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	conversation := msgs("system", "be nice", "user", "I like green tea", "assistant", "Noted.")
	var out ossResults
	c.decode("POST", "/memories", map[string]any{"messages": conversation, "user_id": "u", "agent_id": "a"}, 200, &out)
	if len(out.Results) != 1 || out.Results[0]["memory"] != "I like green tea" || out.Results[0]["event"] != "ADD" {
		t.Fatalf("inferred add answered %+v, want the user's fact", out.Results)
	}
	if keys := slices.Sorted(maps.Keys(out.Results[0])); !slices.Equal(keys, []string{"event", "id", "memory"}) {
		t.Errorf("inferred result keys = %v, want id, memory, event", keys)
	}
	m := srv.Memories()
	if len(m) != 1 || m[0].AttributedTo != "user" || m[0].Role != "" || m[0].UserID != "u" || m[0].AgentID != "a" {
		t.Errorf("Memories = %+v, want one inferred memory in u/a attributed to the user", m)
	}
	if h := srv.History(m[0].ID); len(h) != 1 || h[0].Event != "ADD" || !h[0].UpdatedAt.IsZero() {
		t.Errorf("History = %+v, want one ADD without updated_at (batch_add_history)", h)
	}

	// The same conversation again: its fact's hash is already in the scope.
	c.decode("POST", "/memories", map[string]any{"messages": conversation, "user_id": "u", "agent_id": "a"}, 200, &out)
	if len(out.Results) != 0 || srv.Count() != 1 {
		t.Errorf("repeated add answered %+v with Count %d, want nothing stored", out.Results, srv.Count())
	}

	srv.SetInferredFacts(2)
	c.decode("POST", "/memories", map[string]any{"messages": msgs("user", "I walk daily"), "user_id": "u"}, 200, &out)
	if len(out.Results) != 2 || out.Results[0]["memory"] == out.Results[1]["memory"] || srv.Count() != 3 {
		t.Errorf("two facts: %+v, Count %d", out.Results, srv.Count())
	}
	srv.SetInferredFacts(0)
	status, body := c.do("POST", "/memories", map[string]any{"messages": msgs("user", "hello there"), "user_id": "u"})
	if status != 200 || body != `{"results":[]}` || srv.Count() != 3 {
		t.Errorf("no facts: %d %s, Count %d", status, body, srv.Count())
	}
}

func TestOSSAddVerbatim(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	var out ossResults
	c.decode("POST", "/memories", map[string]any{
		"messages": msgs("system", "ignored", "user", "likes tea", "assistant", "suggested oolong"),
		"user_id":  "u", "metadata": map[string]any{"operation_id": "op", "n": 1}, "infer": false,
	}, 200, &out)
	if len(out.Results) != 2 {
		t.Fatalf("add answered %+v, want one memory per non-system message", out.Results)
	}
	for i, role := range []string{"user", "assistant"} {
		r := out.Results[i]
		if r["role"] != role || r["event"] != "ADD" || r["actor_id"] != nil || !hasKey(r, "actor_id") {
			t.Errorf("result %d = %v, want role %s and actor_id null", i, r, role)
		}
	}
	for _, m := range srv.Memories() {
		if m.Role == "" || m.Metadata["operation_id"] != "op" || m.CreatedAt.IsZero() || !m.CreatedAt.Equal(m.UpdatedAt) {
			t.Errorf("memory %+v", m)
		}
		if h := srv.History(m.ID); len(h) != 1 || h[0].Role != m.Role || h[0].NewMemory != m.Memory {
			t.Errorf("History = %+v", h)
		}
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func TestOSSListDefaultsToTwentyInStoreOrder(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	var texts25 []string
	for i := range 25 {
		texts25 = append(texts25, fmt.Sprintf("fact %02d", i))
	}
	added := addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, texts25...)
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u", "agent_id": "a"}, "shared fact")
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "other"}, "not u's")

	var page ossResults
	c.decode("GET", "/memories?user_id=u", nil, 200, &page)
	if len(page.Results) != 20 {
		t.Errorf("default listing has %d memories, want get_all's top_k=20", len(page.Results))
	}
	var all ossResults
	c.decode("GET", "/memories?user_id=u&top_k=1000", nil, 200, &all)
	got := ids(all.Results)
	if len(got) != 26 {
		t.Fatalf("top_k=1000 listed %d, want 26", len(got))
	}
	if !slices.Equal(ids(page.Results), got[:20]) {
		t.Errorf("the default listing is not the first 20 of the full one")
	}
	inserted := slices.DeleteFunc(slices.Clone(got), func(id string) bool { return !slices.Contains(added, id) })
	if slices.Equal(inserted, added) {
		t.Errorf("listing is in insertion order; mem0's vector store lists in its own order")
	}
	var again ossResults
	c.decode("GET", "/memories?user_id=u&top_k=1000", nil, 200, &again)
	if !slices.Equal(ids(again.Results), got) {
		t.Errorf("the order changed between two listings")
	}

	var both ossResults
	c.decode("GET", "/memories?user_id=u&agent_id=a", nil, 200, &both)
	if len(both.Results) != 1 || both.Results[0]["memory"] != "shared fact" {
		t.Errorf("user_id and agent_id listed %v, want the one memory holding both", texts(both.Results))
	}
	item := page.Results[slices.IndexFunc(page.Results, func(it map[string]any) bool { return it["agent_id"] == nil })]
	if keys := slices.Sorted(maps.Keys(item)); !slices.Equal(keys, []string{"created_at", "hash", "id", "memory", "metadata", "role", "updated_at", "user_id"}) {
		t.Errorf("item keys = %v", keys)
	}
	if sum := md5.Sum([]byte(item["memory"].(string))); item["hash"] != hex.EncodeToString(sum[:]) || item["metadata"] != nil {
		t.Errorf("item = %v, want the md5 of its text and metadata null", item)
	}
	if s := item["created_at"].(string); !strings.HasSuffix(s, "+00:00") {
		t.Errorf("created_at = %s, want Python's isoformat in UTC", s)
	}

	for _, q := range []string{"top_k=1001", "top_k=-1", "top_k=ten"} {
		c.expect("GET", "/memories?user_id=u&"+q, nil, 422, `"loc":["query","top_k"]`)
	}
	c.expect("GET", "/memories?user_id=a%20b", nil, 502, "Upstream provider error.")
}

func TestOSSListEverythingIsRaw(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "one", "two", "three")
	var out ossResults
	c.decode("GET", "/memories?top_k=2", nil, 200, &out)
	if len(out.Results) != 2 {
		t.Fatalf("top_k=2 listed %d", len(out.Results))
	}
	md, _ := out.Results[0]["metadata"].(map[string]any)
	if md["role"] != "user" || md["text_lemmatized"] == nil || !hasKey(out.Results[0], "agent_id") {
		t.Errorf("item = %v, want _serialize_memory's shape (role and text_lemmatized in metadata, agent_id null)", out.Results[0])
	}
}

func TestOSSGet(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	id := addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes tea")[0]
	var item map[string]any
	c.decode("GET", "/memories/"+id, nil, 200, &item)
	if item["memory"] != "likes tea" || !hasKey(item, "score") || item["score"] != nil || item["metadata"] != nil || item["role"] != "user" {
		t.Errorf("get = %v", item)
	}
	if status, body := c.do("GET", "/memories/"+missingUUID, nil); status != 200 || body != "null" {
		t.Errorf("missing memory = %d %s, want 200 null", status, body)
	}
	c.expect("GET", "/memories/not-a-uuid", nil, 502, "Upstream provider error.")
}

func TestOSSSearchValidation(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	u := map[string]any{"user_id": "u"}
	for _, tt := range []struct {
		body any
		want int
		in   string
	}{
		{map[string]any{"filters": u}, 422, `"loc":["body","query"]`},
		{map[string]any{"query": "  ", "filters": u}, 400, "Invalid query"},
		{map[string]any{"query": "tea", "filters": u, "threshold": 1.5}, 400, "Invalid threshold"},
		{map[string]any{"query": "tea", "filters": u, "top_k": -1}, 400, "Invalid top_k"},
		{map[string]any{"query": "tea"}, 400, "filters must contain at least one of"},
		{map[string]any{"query": "tea", "filters": map[string]any{"AND": []any{u}}}, 400, "filters must contain"},
		{map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u", "k": map[string]any{"regex": "x"}}}, 400, "Unsupported"},
		{map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u", "metadata": map[string]any{"k": "v"}}}, 400, "Unsupported filter operator: k"},
		{map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u", "k": map[string]any{"in": "x"}}}, 400, "requires a list value"},
		{map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u", "OR": []any{}}}, 400, "non-empty list"},
	} {
		c.expect("POST", "/search", tt.body, tt.want, tt.in)
	}
}

func TestOSSSearchDefaultsAndScores(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	var facts []string
	for i := range 30 {
		facts = append(facts, fmt.Sprintf("tea fact %d", i))
	}
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, facts...)
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes green tea", "likes green apples")

	var out ossResults
	c.decode("POST", "/search", map[string]any{"query": "tea", "user_id": "u"}, 200, &out) // top-level id: deprecated, still honoured
	if len(out.Results) != 20 {
		t.Errorf("default search returned %d, want top_k=20", len(out.Results))
	}
	c.decode("POST", "/search", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u"}, "top_k": 25}, 200, &out)
	if len(out.Results) != 25 {
		t.Errorf("top_k=25 returned %d", len(out.Results))
	}

	c.decode("POST", "/search", map[string]any{"query": "green tea", "filters": map[string]any{"user_id": "u"}, "explain": true}, 200, &out)
	last := math.Inf(1)
	for _, item := range out.Results {
		score, err := scoreOf(item)
		if err != nil {
			t.Fatalf("%v: %v", item, err)
		}
		d := item["score_details"].(map[string]any)
		sem, bm25, maxp := d["semantic_score"].(float64), d["bm25_score"].(float64), d["max_possible_score"].(float64)
		if want := math.Min((sem+bm25)/maxp, 1); math.Abs(score-want) > 1e-9 || sem < 0.1 || score > last {
			t.Errorf("%s: score %v, details %v: want min((semantic+bm25)/max, 1), semantic >= 0.1, best first", item["memory"], score, d)
		}
		if maxp != 2 {
			t.Errorf("max_possible_score = %v, want 2: a memory matched every query word", maxp)
		}
		last = score
	}
	if len(out.Results) == 0 || out.Results[0]["memory"] != "likes green tea" {
		t.Errorf("best hit = %v, want likes green tea", texts(out.Results))
	}
}

func TestOSSSearchThresholdGatesTheSemanticScore(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	srv.SetScorer(func(_, memory string) float64 {
		return map[string]float64{"strong": 0.9, "weak": 0.05, "zero": 0}[memory]
	})
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "strong", "weak", "zero")
	search := func(body map[string]any) []string {
		body["query"], body["filters"] = "anything", map[string]any{"user_id": "u"}
		var out ossResults
		c.decode("POST", "/search", body, 200, &out)
		return texts(out.Results)
	}
	if got := search(map[string]any{}); !slices.Equal(got, []string{"strong"}) {
		t.Errorf("default threshold 0.1 kept %v", got)
	}
	if got := search(map[string]any{"threshold": 0}); !slices.Equal(got, []string{"strong", "weak", "zero"}) {
		t.Errorf("threshold 0 kept %v, want every candidate", got)
	}
	if got := search(map[string]any{"threshold": 0.95}); len(got) != 0 {
		t.Errorf("threshold 0.95 kept %v", got)
	}
}

func TestOSSSearchFilters(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	for _, op := range []string{"op1", "op2", ""} {
		body := map[string]any{"messages": msgs("user", "tea "+op), "user_id": "u", "infer": false}
		if op != "" {
			body["metadata"] = map[string]any{"operation_id": op}
		}
		c.expect("POST", "/memories", body, 200)
	}
	c.expect("POST", "/memories", map[string]any{"messages": msgs("user", "tea op1 elsewhere"), "user_id": "v", "metadata": map[string]any{"operation_id": "op1"}, "infer": false}, 200)
	for _, tt := range []struct {
		name    string
		filters map[string]any
		want    []string
	}{
		{"plain metadata key", map[string]any{"user_id": "u", "operation_id": "op1"}, []string{"tea op1"}},
		{"in", map[string]any{"user_id": "u", "operation_id": map[string]any{"in": []any{"op1", "op2"}}}, []string{"tea op1", "tea op2"}},
		{"ne leaves out the memory without the key", map[string]any{"user_id": "u", "operation_id": map[string]any{"ne": "op1"}}, []string{"tea op2"}},
		{"NOT leaves it out too", map[string]any{"user_id": "u", "NOT": []any{map[string]any{"operation_id": "op1"}}}, []string{"tea op2"}},
		{"OR", map[string]any{"user_id": "u", "OR": []any{map[string]any{"operation_id": "op1"}, map[string]any{"operation_id": "op2"}}}, []string{"tea op1", "tea op2"}},
		{"AND", map[string]any{"user_id": "u", "AND": []any{map[string]any{"operation_id": "op2"}}}, []string{"tea op2"}},
		{"wildcard", map[string]any{"user_id": "u", "operation_id": "*"}, []string{"tea op1", "tea op2"}},
		{"eq", map[string]any{"user_id": "u", "operation_id": map[string]any{"eq": "op2"}}, []string{"tea op2"}},
	} {
		var out ossResults
		c.decode("POST", "/search", map[string]any{"query": "tea", "filters": tt.filters, "threshold": 0}, 200, &out)
		if got := texts(out.Results); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestOSSExpiredMemoriesAreHidden(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	c.expect("POST", "/memories", map[string]any{"messages": msgs("user", "old tea"), "user_id": "u", "infer": false, "expiration_date": "2000-01-01"}, 200)
	c.expect("POST", "/memories", map[string]any{"messages": msgs("user", "new tea"), "user_id": "u", "infer": false, "expiration_date": "2999-01-01"}, 200)
	var out ossResults
	c.decode("GET", "/memories?user_id=u", nil, 200, &out)
	if got := texts(out.Results); !slices.Equal(got, []string{"new tea"}) {
		t.Errorf("listing = %v, want the expired memory hidden", got)
	}
	c.decode("GET", "/memories?user_id=u&show_expired=true", nil, 200, &out)
	if len(out.Results) != 2 {
		t.Errorf("show_expired listing = %v", texts(out.Results))
	}
	c.decode("POST", "/search", map[string]any{"query": "tea", "filters": map[string]any{"user_id": "u"}}, 200, &out)
	if got := texts(out.Results); !slices.Equal(got, []string{"new tea"}) {
		t.Errorf("search = %v, want the expired memory hidden", got)
	}
}

func TestOSSUpdateMergesMetadata(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	c.expect("POST", "/memories", map[string]any{"messages": msgs("user", "likes tea"), "user_id": "u", "infer": false, "metadata": map[string]any{"k": "v", "keep": "yes"}}, 200)
	id := srv.Memories()[0].ID
	path := "/memories/" + id

	c.expect("PUT", path, map[string]any{"text": "likes coffee"}, 200, `{"message":"Memory updated successfully!"}`)
	if m := srv.Memories()[0]; m.Memory != "likes coffee" || m.Metadata["k"] != "v" || m.Metadata["keep"] != "yes" {
		t.Errorf("after a text update: %+v, want the metadata kept", m)
	}
	c.expect("PUT", path, map[string]any{"metadata": map[string]any{"k": "w", "user_id": "mallory"}}, 200)
	if m := srv.Memories()[0]; m.Memory != "likes coffee" || m.Metadata["k"] != "w" || m.Metadata["keep"] != "yes" || m.UserID != "u" {
		t.Errorf("after a metadata update: %+v, want k merged, keep kept, user_id untouched", m)
	}
	c.expect("PUT", path, map[string]any{}, 400, "At least one of text, metadata, or expiration_date must be provided.")
	c.expect("PUT", path, nil, 422, "missing")
	c.expect("PUT", "/memories/"+missingUUID, map[string]any{"text": "x"}, 404, "Memory with id "+missingUUID+" not found. Please provide a valid 'memory_id'")
	c.expect("PUT", "/memories/not-a-uuid", map[string]any{"text": "x"}, 502)

	c.expect("PUT", path, map[string]any{"expiration_date": "2000-01-01"}, 200)
	c.expect("GET", "/memories?user_id=u", nil, 200, `{"results":[]}`)
	c.expect("PUT", path, map[string]any{"expiration_date": nil}, 200)
	c.expect("GET", "/memories?user_id=u", nil, 200, "likes coffee")

	h := srv.History(id)
	var events []string
	for _, e := range h {
		events = append(events, e.Event)
	}
	if !slices.Equal(events, []string{"ADD", "UPDATE", "UPDATE", "UPDATE", "UPDATE"}) || h[1].OldMemory != "likes tea" || h[1].NewMemory != "likes coffee" {
		t.Errorf("History = %+v", h)
	}
}

func TestOSSDelete(t *testing.T) {
	t.Parallel()
	_, c := ossServer(t)
	id := addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "likes tea")[0]
	c.expect("DELETE", "/memories/"+missingUUID, nil, 404, `{"detail":"Memory with id `+missingUUID+` not found"}`)
	c.expect("DELETE", "/memories/not-a-uuid", nil, 502)
	c.expect("DELETE", "/memories/"+id, nil, 200, `{"message":"Memory deleted successfully"}`)
	c.expect("GET", "/memories/"+id, nil, 200, "null")
	c.expect("DELETE", "/memories/"+id, nil, 404)

	var history []map[string]any
	c.decode("GET", "/memories/"+id+"/history", nil, 200, &history)
	if len(history) != 2 || history[1]["event"] != "DELETE" || history[1]["is_deleted"] != true ||
		history[1]["new_memory"] != nil || history[1]["old_memory"] != "likes tea" || history[0]["event"] != "ADD" {
		t.Errorf("history = %v, want ADD then DELETE", history)
	}
	c.expect("GET", "/memories/"+missingUUID+"/history", nil, 200, "[]")
}

func TestOSSDeleteAllPagesThroughTheScope(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	var many []string
	for i := range 1050 { // more than one DELETE_ALL_BATCH_SIZE
		many = append(many, fmt.Sprintf("fact %d", i))
	}
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u", "agent_id": "a"}, many...)
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, "u only 1", "u only 2")
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "v", "agent_id": "a"}, "v's")

	c.expect("DELETE", "/memories", nil, 400, "At least one identifier is required.")
	c.expect("DELETE", "/memories?user_id=a%20b", nil, 502)
	c.expect("DELETE", "/memories?user_id=u&agent_id=a", nil, 200, `{"message":"All relevant memories deleted"}`)
	var left []string
	for _, m := range srv.Memories() {
		left = append(left, m.Memory)
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"u only 1", "u only 2", "v's"}) {
		t.Errorf("left %d memories (%.80v), want those not holding both ids", len(left), left)
	}
}

func TestOSSDeleteAllCap(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	srv.SetDeleteAllCap(100)
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("fact %d", i))
	}
	addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, many...)
	for _, want := range []int{150, 50, 0} {
		c.expect("DELETE", "/memories?user_id=u", nil, 200, "All relevant memories deleted")
		if srv.Count() != want {
			t.Errorf("Count = %d, want %d: at most 100 deleted per call", srv.Count(), want)
		}
	}
}

func TestOSSUnknownRoutesAreReported(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/memories/", "/v1/memories/"} {
		rec := &recordingTB{TB: t}
		srv := mem0test.NewServer(rec, memorybank.FlavorOSS)
		srv.SetAPIKey("k")
		newClient(t, srv).expect("POST", path, map[string]any{}, http.StatusNotFound, `{"detail":"Not Found"}`)
		if got := rec.reported(); len(got) != 1 || !strings.Contains(got[0], "no such route") {
			t.Errorf("%s: reported %q", path, got)
		}
	}
}

// Answers carry their length, as Starlette's do, however long: a client reads
// them into one buffer, never a chunked stream.
func TestOSSAnswersCarryTheirLength(t *testing.T) {
	t.Parallel()
	srv, c := ossServer(t)
	for i := range 40 {
		addVerbatim(t, c, memorybank.FlavorOSS, map[string]any{"user_id": "u"}, fmt.Sprintf("memory number %d, long enough to make the listing several kilobytes", i))
	}
	resp, err := http.Get(srv.URL() + "/memories?user_id=u")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 4096 || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a %d-byte listing came with Content-Length %d, Transfer-Encoding %v", len(body), resp.ContentLength, resp.TransferEncoding)
	}
}
