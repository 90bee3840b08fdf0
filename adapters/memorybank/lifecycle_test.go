package memorybank_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
	"github.com/prometheus/client_golang/prometheus"
)

const missingID = "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293"

// The platform lists in pages; every reader of the scope must follow them to the end,
// or a redelivered command would store its memory twice.
func TestListingReadsEveryPage(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		memorybank.SetListPageSize(c, 2)
		alice := scope(t, "app1", "alice")
		var ids []string
		for i := range 5 {
			got, err := c.Add(ctx, alice, draft(t, fmt.Sprintf("memory %d", i), nil), fmt.Sprintf("op-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got...)
		}
		wantRequests := 1 // the open-source server answers with the whole scope
		if flavor == memorybank.FlavorPlatform {
			wantRequests = 3 // pages of 2, 2 and 1
		}

		// The fake lists oldest first: the newest memory is on the last page.
		before := srv.Requests()
		found, err := c.FindByOperation(ctx, alice, "op-4")
		if err != nil || !slices.Equal(found, ids[4:]) {
			t.Fatalf("FindByOperation(op-4) = %v %v, want %v", found, err, ids[4:])
		}
		if got := srv.Requests() - before; got != wantRequests {
			t.Errorf("FindByOperation sent %d requests, want %d", got, wantRequests)
		}

		page, err := c.List(ctx, alice, memory.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Records {
			got = append(got, r.ID)
		}
		slices.Reverse(ids)
		if !slices.Equal(got, ids) {
			t.Errorf("List = %v, want all five newest first %v", got, ids)
		}

		before = srv.Requests()
		n, err := c.DeleteAll(ctx, alice)
		if err != nil || n != 5 {
			t.Fatalf("DeleteAll = %d %v, want 5", n, err)
		}
		if got := srv.Requests() - before; got != wantRequests+1 {
			t.Errorf("DeleteAll sent %d requests, want %d listing and one delete", got, wantRequests+1)
		}
	})
}

// A server that ignores page and page_size answers the same list again: the client
// stops when a page brings nothing new instead of asking forever.
func TestListingStopsWhenPagesRepeat(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Query().Get("page") == "" || r.URL.Query().Get("page_size") != "2" {
			t.Errorf("list request %s lacks page and page_size", r.URL)
		}
		fmt.Fprintf(w, `[{"id":"a","memory":"x","created_at":"2024-07-01T00:00:00Z"},{"id":"b","memory":"y","created_at":"2024-07-02T00:00:00Z"},{"id":"c","memory":"z","created_at":"2024-07-03T00:00:00Z"}]`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, memorybank.FlavorPlatform)
	memorybank.SetListPageSize(c, 2)

	page, err := c.List(context.Background(), scope(t, "app1", ""), memory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 3 || page.Records[0].ID != "c" || page.Records[2].ID != "a" {
		t.Errorf("List = %+v, want c, b, a", page.Records)
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

// mem0 enforces no isolation: the answer to a get must itself name the caller's scope,
// or the memory is treated as missing.
func TestGetTrustsOnlyAnAnswerNamingTheScope(t *testing.T) {
	const owned = `"user_id":"app1:alice","agent_id":"custom_gpt:app1"`
	tests := []struct {
		name, body string
		wantFound  bool
	}{
		{"owned", `{"id":"` + missingID + `","memory":"m",` + owned + `,"updated_at":"2024-07-20T17:00:00Z"}`, true},
		{"no user or agent", `{"id":"` + missingID + `","memory":"m"}`, false},
		{"other user", `{"id":"` + missingID + `","user_id":"app1:bob","agent_id":"custom_gpt:app1"}`, false},
		{"no agent", `{"id":"` + missingID + `","user_id":"app1:alice"}`, false},
		{"other app in metadata", `{"id":"` + missingID + `",` + owned + `,"metadata":{"app_id":"app2"}}`, false},
		{"another id", `{"id":"0190b1d2-0000-7a9b-8c3d-4e5f60718293",` + owned + `}`, false},
		{"null", `null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, memorybank.FlavorOSS, func(cfg *memorybank.Config) { cfg.Registerer = reg })

			// Upper case is the same UUID: the client asks for its canonical form.
			r, err := c.Get(context.Background(), scope(t, "app1", "alice"), strings.ToUpper(missingID))
			outcome := "not_found"
			if tt.wantFound {
				outcome = "success"
				if err != nil || r.ID != missingID || r.Content != "m" || r.UpdatedAt.IsZero() {
					t.Fatalf("Get = %+v %v", r, err)
				}
			} else if errs.KindOf(err) != errs.KindNotFound || memory.IsTransient(err) {
				t.Fatalf("Get = %+v %v, want a permanent not found", r, err)
			}
			if got := metricValue(t, reg, "custom_gpt_memory_bank_requests_total", map[string]string{"operation": "get", "outcome": outcome}); got != 1 {
				t.Errorf("get %s count = %v, want 1", outcome, got)
			}
		})
	}
}

// Lifecycle calls are counted under their own operation, and a memory that is not the
// caller's is a not_found outcome that leaves the breaker closed.
func TestLifecycleMetrics(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		reg := prometheus.NewRegistry()
		c := newClient(t, srv.URL(), flavor, withBreaker(0, reg))
		ctx := context.Background()
		alice, bob := scope(t, "app1", "alice"), scope(t, "app1", "bob")
		ids, err := c.Add(ctx, alice, draft(t, "x", nil), "op")
		if err != nil {
			t.Fatal(err)
		}
		id := ids[0]
		for range failures + 1 {
			if err := c.Delete(ctx, bob, id); errs.KindOf(err) != errs.KindNotFound {
				t.Fatalf("bob deleting alice's memory: %v", err)
			}
		}
		if err := c.Update(ctx, alice, id, "y"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.History(ctx, alice, id); err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(ctx, alice, memory.Page{}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, alice, id); err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1, http.StatusBadGateway)
		if _, err := c.DeleteAll(ctx, alice); !memory.IsTransient(err) {
			t.Fatalf("DeleteAll against a 502: %v, want transient", err)
		}
		if n, err := c.DeleteAll(ctx, alice); err != nil || n != 0 {
			t.Fatalf("DeleteAll = %d %v", n, err)
		}

		checks := []struct {
			op, outcome string
			want        float64
		}{
			{"get", "not_found", failures + 1},
			{"get", "success", 3}, // before the update, the history and the delete
			{"update", "success", 1},
			{"history", "success", 1},
			{"delete", "success", 1},
			{"list", "success", 2}, // the page, and the count before the second DeleteAll
			{"list", "transient_error", 1},
			{"delete_all", "success", 1},
		}
		for _, ch := range checks {
			labels := map[string]string{"operation": ch.op, "outcome": ch.outcome}
			if got := metricValue(t, reg, "custom_gpt_memory_bank_requests_total", labels); got != ch.want {
				t.Errorf("requests_total%v = %v, want %v", labels, got, ch.want)
			}
		}
		if got := metricValue(t, reg, "custom_gpt_memory_bank_breaker_state", nil); got != 0 {
			t.Errorf("breaker_state = %v after %d not-found answers, want 0 (closed)", got, failures+1)
		}
	})
}

// The open-source server replaces a memory's metadata on update; the client sends the
// memory's own back, and never lets the caller's scope tags be replaced.
func TestUpdateRequests(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		ids, err := c.Add(ctx, alice, draft(t, "likes tea", map[string]any{"topic": "drinks"}), "op-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Update(ctx, alice, ids[0], "likes coffee"); err != nil {
			t.Fatal(err)
		}
		m := srv.Memories()[0]
		if m.Memory != "likes coffee" || m.Metadata["topic"] != "drinks" || m.Metadata[memory.TagOperationID] != "op-1" ||
			m.UserID != alice.UserID() || m.AgentID != alice.AgentID() {
			t.Errorf("stored after update: %+v", m)
		}
		if h := srv.History(ids[0]); len(h) != 2 || h[1].Event != "UPDATE" || h[1].OldMemory != "likes tea" {
			t.Errorf("server history = %+v", h)
		}
	})
}
