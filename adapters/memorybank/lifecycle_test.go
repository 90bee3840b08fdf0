package memorybank_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

const missingID = "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293"

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
		added, err := c.Add(ctx, alice, draft(t, "x", nil), "op")
		if err != nil {
			t.Fatal(err)
		}
		id := added.IDs[0]
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
		if _, _, err := c.Held(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, alice, id); err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1, http.StatusBadGateway)
		if _, _, err := c.Held(ctx, alice); !memory.IsTransient(err) {
			t.Fatalf("Held against a 502: %v, want transient", err)
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
			{"held", "success", 1},
			{"held", "transient_error", 1},
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

// Older open-source servers replaced a memory's metadata on update (2.0.18
// merges it); the client sends the memory's own back, and never lets the
// caller's scope tags be replaced.
func TestUpdateRequests(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		ctx := context.Background()
		c := newClient(t, srv.URL(), flavor)
		alice := scope(t, "app1", "alice")
		added, err := c.Add(ctx, alice, draft(t, "likes tea", map[string]any{"topic": "drinks"}), "op-1")
		if err != nil {
			t.Fatal(err)
		}
		ids := added.IDs
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
