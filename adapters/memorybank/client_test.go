package memorybank_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

func TestAddThenFindByOperation(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		content := "Prefers answers in French. Loves green tea!"

		added, err := c.Add(ctx, alice, draft(t, content, map[string]any{"topic": "prefs", "weight": 2.5}), "op-1")
		if err != nil {
			t.Fatalf("Add: %v", err)
		}
		ids := added.IDs
		if len(ids) != 1 || added.Pending != "" {
			t.Fatalf("Add = %+v, want one memory at once (inference off)", added)
		}

		stored := srv.Memories()
		if len(stored) != 1 {
			t.Fatalf("server holds %d memories, want 1", len(stored))
		}
		m := stored[0]
		if m.ID != ids[0] || m.Memory != content || m.UserID != alice.UserID() || m.AgentID != alice.AgentID() {
			t.Errorf("stored %+v, want id %s, verbatim content, user %s, agent %s", m, ids[0], alice.UserID(), alice.AgentID())
		}
		wantMeta := map[string]any{"topic": "prefs", "weight": 2.5, memory.TagSource: memory.SourceValue, memory.TagAppID: "app1", memory.TagOperationID: "op-1"}
		for k, v := range wantMeta {
			if fmt.Sprint(m.Metadata[k]) != fmt.Sprint(v) {
				t.Errorf("metadata[%s] = %v, want %v", k, m.Metadata[k], v)
			}
		}

		tests := []struct {
			name  string
			scope memory.Scope
			op    string
			want  []string
		}{
			{"same scope, same operation", alice, "op-1", ids},
			{"same scope, other operation", alice, "op-2", nil},
			{"other user of the app", scope(t, "app1", "bob"), "op-1", nil},
			{"other app", scope(t, "app2", "alice"), "op-1", nil},
			{"empty operation id", alice, "", nil},
		}
		for _, tt := range tests {
			got, err := c.FindByOperation(ctx, tt.scope, tt.op, content)
			if err != nil {
				t.Fatalf("%s: FindByOperation: %v", tt.name, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: FindByOperation = %v, want %v", tt.name, got, tt.want)
			}
		}
	})
}

// A redelivered create finds what an earlier attempt stored by asking mem0 for
// its operation's tag: one request, however many memories the scope holds,
// where mem0 lists only 20 by default (at most 1000), in no useful order.
func TestFindByOperationInALargeScope(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		var first string
		for i := range 1200 {
			added, err := c.Add(ctx, alice, draft(t, fmt.Sprintf("the user said thing number %d", i), nil), fmt.Sprintf("op-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = added.IDs[0]
			}
		}
		before := len(srv.Calls())
		found, err := c.FindByOperation(ctx, alice, "op-0", "the user said thing number 0")
		if err != nil || !slices.Equal(found, []string{first}) {
			t.Fatalf("FindByOperation(op-0) = %v %v, want [%s]", found, err, first)
		}
		if calls := srv.Calls()[before:]; len(calls) != 1 {
			t.Errorf("FindByOperation sent %d requests, want one: %v", len(calls), calls)
		}
	})
}

func TestSearchIsScoped(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice, bob, otherApp := scope(t, "app1", "alice"), scope(t, "app1", "bob"), scope(t, "app2", "alice")
		for i, s := range []memory.Scope{alice, bob, otherApp} {
			if _, err := c.Add(ctx, s, draft(t, "likes green tea", nil), "op-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Add(ctx, alice, draft(t, "owns a bicycle", nil), "op-d"); err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(-time.Minute)

		hits, err := c.Search(ctx, alice, query(t, "green tea", 10))
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		// mem0 drops what scores under its default threshold: the bicycle.
		if len(hits) != 1 || hits[0].Content != "likes green tea" || hits[0].Relevance <= 0 || hits[0].Relevance > 1 {
			t.Fatalf("hits = %+v, want alice's tea memory alone", hits)
		}
		if h := hits[0]; h.Metadata[memory.TagAppID] != "app1" || h.Metadata[memory.TagOperationID] != "op-a" || h.CreatedAt.Before(start) {
			t.Errorf("hit %+v is not alice's, or lacks its metadata or time", h)
		}
	})
}

func TestSearchCutsToLimit(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		for _, text := range []string{"tea", "green tea", "coffee", "green", "water"} {
			if _, err := c.Add(ctx, alice, draft(t, text, nil), "op-"+text); err != nil {
				t.Fatal(err)
			}
		}
		hits, err := c.Search(ctx, alice, query(t, "green tea", 2))
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		if len(hits) != 2 || hits[0].Content != "green tea" || hits[1].Relevance > hits[0].Relevance {
			t.Errorf("hits = %+v, want the 2 best, best first", hits)
		}
	})
}

func TestErrorsAreClassified(t *testing.T) {
	tests := []struct {
		status        int
		wantTransient bool
		wantReason    string
	}{
		{http.StatusBadRequest, false, "mem0test: injected failure"},
		{http.StatusNotFound, false, "mem0test: injected failure"},
		{http.StatusUnprocessableEntity, false, "mem0test: injected failure"},
		{http.StatusRequestTimeout, true, "request timeout"},
		{http.StatusTooManyRequests, true, "too many requests"},
		{http.StatusInternalServerError, true, "internal server error"},
		{http.StatusBadGateway, true, "bad gateway"},
		{http.StatusServiceUnavailable, true, "service unavailable"},
		{http.StatusGatewayTimeout, true, "gateway timeout"},
	}
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor, func(cfg *memorybank.Config) { cfg.Breaker.ConsecutiveFailures = 100 })
		alice := scope(t, "app1", "alice")
		added, err := c.Add(ctx, alice, draft(t, "x", nil), "op-seed")
		if err != nil {
			t.Fatal(err)
		}
		id := added.IDs[0]
		calls := map[string]func() error{
			"add": func() error {
				_, err := c.Add(ctx, alice, draft(t, "x", nil), "op")
				return err
			},
			"find": func() error {
				_, err := c.FindByOperation(ctx, alice, "op", "x")
				return err
			},
			"search": func() error {
				_, err := c.Search(ctx, alice, query(t, "x", 5))
				return err
			},
			"held": func() error {
				_, _, err := c.Held(ctx, alice)
				return err
			},
			"get": func() error {
				_, err := c.Get(ctx, alice, id)
				return err
			},
			"delete all": func() error {
				_, err := c.DeleteAll(ctx, alice)
				return err
			},
			"history": func() error {
				_, err := c.History(ctx, alice, id)
				return err
			},
		}
		writes := map[string]bool{"add": true, "delete all": true}
		for _, tt := range tests {
			for name, call := range calls {
				srv.FailNext(1, tt.status)
				err := call()
				be := bankError(t, err)
				if be.Transient != tt.wantTransient || be.StatusCode != tt.status || be.Reason != tt.wantReason {
					t.Errorf("%s answered %d: got transient=%v status=%d reason=%q, want transient=%v reason=%q",
						name, tt.status, be.Transient, be.StatusCode, be.Reason, tt.wantTransient, tt.wantReason)
				}
				// A write answered 500, 502 or 504 may have been carried out.
				mayHave := writes[name] && (tt.status == 500 || tt.status == 502 || tt.status == 504)
				if errors.Is(err, memory.ErrNoAnswer) != mayHave {
					t.Errorf("%s answered %d: may have acted = %v, want %v", name, tt.status, !mayHave, mayHave)
				}
			}
		}
		if srv.Count() != 1 {
			t.Errorf("failed adds stored %d memories", srv.Count()-1)
		}
	})
}

// An answer lost after mem0 acted (a proxy's 502 or 504, a broken
// connection) may hide a write: the error says so, and the memory is found by
// its operation.
func TestLostAnswerOfAnAddMayHaveActed(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusGatewayTimeout, 0} {
		forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
			ctx := context.Background()
			c := newClient(t, srv.URL(), flavor)
			alice := scope(t, "app1", "alice")
			srv.LoseNextAnswers(1, status)
			_, err := c.Add(ctx, alice, draft(t, "likes tea", nil), "op-lost")
			if !memory.IsTransient(err) || !errors.Is(err, memory.ErrNoAnswer) {
				t.Fatalf("lost answer (%d): %v, want a transient error that may have acted", status, err)
			}
			found, err := c.FindByOperation(ctx, alice, "op-lost", "likes tea")
			if err != nil || len(found) != 1 || srv.Count() != 1 {
				t.Fatalf("after the lost answer (%d): found %v %v, %d stored", status, found, err, srv.Count())
			}
		})
	}
}

func TestWrongAPIKeyIsPermanent(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		srv.SetAPIKey("another-key")
		c := newClient(t, srv.URL(), flavor)
		_, err := c.Search(context.Background(), scope(t, "app1", ""), query(t, "x", 5))
		if be := bankError(t, err); be.Transient || be.StatusCode != http.StatusUnauthorized || be.Reason == "" {
			t.Errorf("got %+v, want a permanent 401 with the server's reason", be)
		}
	})
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // frees the port: nothing listens there any more
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			c := newClient(t, dead.URL, flavor)
			_, err := c.Add(context.Background(), scope(t, "app1", ""), draft(t, "x", nil), "op")
			if be := bankError(t, err); !be.Transient || be.StatusCode != 0 || be.Reason != "unreachable" {
				t.Errorf("got %+v, want a transient unreachable error", be)
			}
		})
	}
}

// mem0's open-source server keeps deleting a whole scope to its admin key: a
// per-user key gets a permanent 403 (the caller then deletes by id).
func TestDeleteAllNeedsTheOpenSourceAdminKey(t *testing.T) {
	ctx := context.Background()
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	srv.SetAPIKey(apiKey)
	srv.SetAdminKey("the-admin-key-of-the-server")
	alice := scope(t, "app1", "alice")
	user := newClient(t, srv.URL(), memorybank.FlavorOSS)
	if _, err := user.Add(ctx, alice, draft(t, "likes tea", nil), "op-1"); err != nil {
		t.Fatal(err)
	}
	_, err := user.DeleteAll(ctx, alice)
	if be := bankError(t, err); be.Transient || be.StatusCode != http.StatusForbidden {
		t.Fatalf("delete all with a per-user key: %+v, want a permanent 403", be)
	}
	admin := newClient(t, srv.URL(), memorybank.FlavorOSS, func(cfg *memorybank.Config) { cfg.APIKey = "the-admin-key-of-the-server" })
	if async, err := admin.DeleteAll(ctx, alice); err != nil || async {
		t.Fatalf("delete all with the admin key: %v (async %v)", err, async)
	}
	if held, _, err := user.Held(ctx, alice); err != nil || len(held) != 0 {
		t.Fatalf("held after delete all: %v %v", held, err)
	}
}

// The platform flavor calls only the routes mem0's document keeps: every
// deprecated one answers 410 here.
func TestPlatformCallsNoDeprecatedRoute(t *testing.T) {
	ctx := context.Background()
	srv := mem0test.NewServer(t, memorybank.FlavorPlatform)
	srv.SetAPIKey(apiKey)
	srv.SetRejectDeprecated(true)
	c := newClient(t, srv.URL(), memorybank.FlavorPlatform)
	alice := scope(t, "app1", "alice")
	added, err := c.Add(ctx, alice, draft(t, "likes green tea", nil), "op-1")
	if err != nil || len(added.IDs) != 1 {
		t.Fatalf("Add: %+v %v", added, err)
	}
	id := added.IDs[0]
	steps := map[string]func() error{
		"find":    func() error { _, err := c.FindByOperation(ctx, alice, "op-1", "likes green tea"); return err },
		"search":  func() error { _, err := c.Search(ctx, alice, query(t, "green tea", 5)); return err },
		"held":    func() error { _, _, err := c.Held(ctx, alice); return err },
		"get":     func() error { _, err := c.Get(ctx, alice, id); return err },
		"getMany": func() error { _, err := c.GetMany(ctx, alice, []string{id}); return err },
		"update":  func() error { return c.Update(ctx, alice, id, "likes black tea") },
		"history": func() error { _, err := c.History(ctx, alice, id); return err },
		"delete":  func() error { return c.Delete(ctx, alice, id) },
		"all":     func() error { _, err := c.DeleteAll(ctx, alice); return err },
	}
	for _, name := range []string{"find", "search", "held", "get", "getMany", "update", "history", "delete", "all"} {
		if err := steps[name](); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, call := range srv.Calls() {
		if strings.HasPrefix(call.Path, "/v2/") || (strings.HasPrefix(call.Path, "/v1/memories/") && call.Method == http.MethodPost) ||
			(call.Path == "/v1/memories/" && call.Method == http.MethodGet) {
			t.Errorf("called deprecated %s %s", call.Method, call.Path)
		}
	}
}

// With inference on, one add leaves none, one or several memories; the
// platform answers at once with an event to follow.
func TestAddWithInference(t *testing.T) {
	infer := func(cfg *memorybank.Config) { cfg.Infer = true }
	t.Run("open-source server", func(t *testing.T) {
		ctx := context.Background()
		srv := mem0test.NewServer(t, memorybank.FlavorOSS)
		srv.SetAPIKey(apiKey)
		c := newClient(t, srv.URL(), memorybank.FlavorOSS, infer)
		alice := scope(t, "app1", "alice")
		for _, n := range []int{0, 1, 2} {
			srv.SetInferredFacts(n)
			added, err := c.Add(ctx, alice, draft(t, fmt.Sprintf("fact set %d", n), nil), fmt.Sprintf("op-%d", n))
			if err != nil || len(added.IDs) != n || added.Pending != "" {
				t.Fatalf("%d facts: %+v %v", n, added, err)
			}
			found, err := c.FindByOperation(ctx, alice, fmt.Sprintf("op-%d", n), fmt.Sprintf("fact set %d", n))
			if err != nil || len(found) != n {
				t.Fatalf("%d facts: found %v %v", n, found, err)
			}
		}
	})
	t.Run("platform", func(t *testing.T) {
		ctx := context.Background()
		srv := mem0test.NewServer(t, memorybank.FlavorPlatform)
		srv.SetAPIKey(apiKey)
		srv.SetRejectDeprecated(true)
		srv.SetInferredFacts(2)
		c := newClient(t, srv.URL(), memorybank.FlavorPlatform, infer)
		alice := scope(t, "app1", "alice")
		added, err := c.Add(ctx, alice, draft(t, "moved to Lisbon and likes surfing", nil), "op-1")
		if err != nil || added.Pending == "" || len(added.IDs) != 0 {
			t.Fatalf("Add = %+v %v, want an event to follow", added, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for added.Pending != "" {
			if time.Now().After(deadline) {
				t.Fatal("the event never ended")
			}
			if added, err = c.AddStatus(ctx, alice, added.Pending); err != nil {
				t.Fatal(err)
			}
		}
		if len(added.IDs) != 2 {
			t.Fatalf("the add left %v, want two memories", added.IDs)
		}
		// Inferred memories carry the user, not the agent: they are still the scope's.
		if got, err := c.GetMany(ctx, alice, added.IDs); err != nil || len(got) != 2 {
			t.Fatalf("GetMany = %v %v", got, err)
		}
		if found, err := c.FindByOperation(ctx, alice, "op-1", ""); err != nil || len(found) != 2 {
			t.Fatalf("FindByOperation = %v %v", found, err)
		}

		srv.FailNextEvents(1)
		added, err = c.Add(ctx, alice, draft(t, "this one fails", nil), "op-2")
		if err != nil || added.Pending == "" {
			t.Fatalf("Add = %+v %v", added, err)
		}
		for err == nil && added.Pending != "" {
			added, err = c.AddStatus(ctx, alice, added.Pending)
		}
		if !errors.Is(err, memory.ErrWorkLost) || !memory.IsTransient(err) {
			t.Fatalf("a failed event: %v, want transient lost work", err)
		}
		if _, err := c.AddStatus(ctx, alice, "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293"); !errors.Is(err, memory.ErrWorkLost) {
			t.Fatalf("an unknown event: %v, want lost work", err)
		}
	})
}

func TestMetrics(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		reg := prometheus.NewRegistry()
		c := newClient(t, srv.URL(), flavor, func(cfg *memorybank.Config) { cfg.Registerer = reg })
		ctx := context.Background()
		alice := scope(t, "app1", "alice")

		if _, err := c.Add(ctx, alice, draft(t, "x", nil), "op"); err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1, http.StatusBadRequest)
		_, _ = c.Search(ctx, alice, query(t, "x", 5))
		srv.FailNext(1, http.StatusBadGateway)
		_, _ = c.Search(ctx, alice, query(t, "x", 5))

		checks := []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"custom_gpt_memory_bank_requests_total", map[string]string{"operation": "add", "outcome": "success"}, 1},
			{"custom_gpt_memory_bank_requests_total", map[string]string{"operation": "search", "outcome": "permanent_error"}, 1},
			{"custom_gpt_memory_bank_requests_total", map[string]string{"operation": "search", "outcome": "transient_error"}, 1},
			{"custom_gpt_memory_bank_request_duration_seconds", map[string]string{"operation": "search"}, 2},
			{"custom_gpt_memory_bank_breaker_state", nil, 0},
		}
		for _, ch := range checks {
			if got := metricValue(t, reg, ch.name, ch.labels); got != ch.want {
				t.Errorf("%s%v = %v, want %v", ch.name, ch.labels, got, ch.want)
			}
		}

		// A second client on the same registry shares the series instead of failing.
		if _, err := memorybank.New(memorybank.Config{BaseURL: srv.URL(), Flavor: flavor, APIKey: apiKey, Registerer: reg}); err != nil {
			t.Errorf("second client on one registry: %v", err)
		}
	})
}
