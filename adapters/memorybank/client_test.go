package memorybank_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
	"github.com/prometheus/client_golang/prometheus"
)

func TestAddThenFindByOperation(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		content := "Prefers answers in French. Loves green tea!"

		ids, err := c.Add(ctx, alice, draft(t, content, map[string]any{"topic": "prefs", "weight": 2.5}), "op-1")
		if err != nil {
			t.Fatalf("Add: %v", err)
		}
		if len(ids) != 1 {
			t.Fatalf("Add returned ids %v, want one", ids)
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
			if m.Metadata[k] != v {
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
			got, err := c.FindByOperation(ctx, tt.scope, tt.op)
			if err != nil {
				t.Fatalf("%s: FindByOperation: %v", tt.name, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: FindByOperation = %v, want %v", tt.name, got, tt.want)
			}
		}

		page, err := c.List(ctx, alice, memory.Page{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		records := page.Records
		if len(records) != 1 || records[0].OperationID() != "op-1" || records[0].Content != content || records[0].CreatedAt.IsZero() || page.NextCursor != "" {
			t.Errorf("List = %+v", page)
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
		if len(hits) != 2 {
			t.Fatalf("Search returned %d hits, want alice's 2: %+v", len(hits), hits)
		}
		if hits[0].Content != "likes green tea" || hits[0].Relevance != 1 || hits[1].Relevance != 0 {
			t.Errorf("hits = %+v, want the tea memory first with relevance 1, then the bicycle with 0", hits)
		}
		for _, h := range hits {
			if h.Metadata[memory.TagAppID] != "app1" || h.Metadata[memory.TagOperationID] == "op-b" || h.CreatedAt.Before(start) {
				t.Errorf("hit %+v is not alice's, or lacks its metadata or time", h)
			}
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

		for _, ignore := range []bool{false, true} {
			srv.SetIgnoreLimit(ignore)
			hits, err := c.Search(ctx, alice, query(t, "green tea", 2))
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if len(hits) != 2 || hits[0].Content != "green tea" || hits[0].Relevance != 1 || hits[1].Relevance != 0.5 {
				t.Errorf("server ignoring limit %v: hits = %+v, want the 2 best", ignore, hits)
			}
		}
	})
}

func TestSearchClampsScore(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		scores := map[string]float64{"above": 1.7, "inside": 0.25, "below": -0.4}
		srv.SetScorer(func(_, memory string) float64 { return scores[memory] })
		for text := range scores {
			if _, err := c.Add(ctx, alice, draft(t, text, nil), "op-"+text); err != nil {
				t.Fatal(err)
			}
		}

		hits, err := c.Search(ctx, alice, query(t, "anything", 10))
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		got := map[string]float64{}
		for _, h := range hits {
			got[h.Content] = h.Relevance
		}
		want := map[string]float64{"above": 1, "inside": 0.25, "below": 0}
		if len(got) != len(want) {
			t.Fatalf("hits = %+v", hits)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("relevance of %q = %v, want %v", k, got[k], v)
			}
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
	}
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor, func(cfg *memorybank.Config) { cfg.Breaker.ConsecutiveFailures = 100 })
		alice := scope(t, "app1", "alice")
		for _, tt := range tests {
			calls := map[string]func() error{
				"add": func() error {
					_, err := c.Add(ctx, alice, draft(t, "x", nil), "op")
					return err
				},
				"find": func() error {
					_, err := c.FindByOperation(ctx, alice, "op")
					return err
				},
				"search": func() error {
					_, err := c.Search(ctx, alice, query(t, "x", 5))
					return err
				},
				"list": func() error {
					_, err := c.List(ctx, alice, memory.Page{})
					return err
				},
				"get": func() error {
					_, err := c.Get(ctx, alice, missingID)
					return err
				},
				"update": func() error { return c.Update(ctx, alice, missingID, "x") },
				"delete": func() error { return c.Delete(ctx, alice, missingID) },
				"delete all": func() error {
					_, err := c.DeleteAll(ctx, alice)
					return err
				},
				"history": func() error {
					_, err := c.History(ctx, alice, missingID)
					return err
				},
			}
			for name, call := range calls {
				srv.FailNext(1, tt.status)
				be := bankError(t, call())
				if be.Transient != tt.wantTransient || be.StatusCode != tt.status || be.Reason != tt.wantReason {
					t.Errorf("%s answered %d: got transient=%v status=%d reason=%q, want transient=%v reason=%q",
						name, tt.status, be.Transient, be.StatusCode, be.Reason, tt.wantTransient, tt.wantReason)
				}
			}
		}
		if srv.Count() != 0 {
			t.Errorf("failed adds stored %d memories", srv.Count())
		}
	})
}

func TestWrongAPIKeyIsPermanent(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		srv.SetAPIKey("another-key")
		c := newClient(t, srv.URL(), flavor)
		_, err := c.Search(context.Background(), scope(t, "app1", ""), query(t, "x", 5))
		if be := bankError(t, err); be.Transient || be.StatusCode != http.StatusUnauthorized || be.Reason != "Invalid API key" {
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
