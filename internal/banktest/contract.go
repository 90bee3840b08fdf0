// Package banktest is the contract every Memory Bank implementation must keep:
// the mem0 client in both flavors and the embedded Postgres bank run the same
// suite, so the use cases can rely on one behaviour.
package banktest

import (
	"context"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// Bank is the Memory Bank port as the use cases see it.
type Bank interface {
	Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) ([]string, error)
	FindByOperation(ctx context.Context, scope memory.Scope, operationID string) ([]string, error)
	Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error)
}

// Run checks bank against the contract. newBank returns a fresh, empty bank.
func Run(t *testing.T, newBank func(t *testing.T) Bank) {
	t.Run("stored memory is found by its operation and by search", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		scope := mustScope(t, "app-1", "")
		d := mustDraft(t, "Alice is allergic to peanuts", map[string]any{"topic": "health"}, "conv-7")
		ids, err := b.Add(ctx, scope, d, "op-1")
		if err != nil || len(ids) == 0 {
			t.Fatalf("add: %v %v", ids, err)
		}
		found, err := b.FindByOperation(ctx, scope, "op-1")
		if err != nil || !sameSet(found, ids) {
			t.Fatalf("find by operation: %v %v, want %v", found, err, ids)
		}
		if none, err := b.FindByOperation(ctx, scope, "op-2"); err != nil || len(none) != 0 {
			t.Fatalf("find by another operation: %v %v", none, err)
		}

		hits, err := b.Search(ctx, scope, mustQuery(t, "peanuts allergy", 10))
		if err != nil || len(hits) != 1 {
			t.Fatalf("search: %v %v", hits, err)
		}
		h := hits[0]
		if h.ID != ids[0] || h.Content != "Alice is allergic to peanuts" {
			t.Fatalf("hit %+v", h)
		}
		if h.Relevance <= 0 || h.Relevance > 1 {
			t.Fatalf("relevance %v outside (0,1]", h.Relevance)
		}
		if h.CreatedAt.IsZero() {
			t.Fatal("hit has no created_at")
		}
		for k, want := range map[string]any{"topic": "health", "source": "custom-gpt", "app_id": "app-1", "operation_id": "op-1", "conversation_id": "conv-7"} {
			if h.Metadata[k] != want {
				t.Fatalf("metadata %s = %v, want %v (all: %v)", k, h.Metadata[k], want, h.Metadata)
			}
		}
	})

	t.Run("scopes are isolated", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		for _, other := range []memory.Scope{mustScope(t, "app-1", "user-y"), mustScope(t, "app-1", ""), mustScope(t, "app-2", "user-x")} {
			if _, err := b.Add(ctx, owner, mustDraft(t, "the vault code is 4711", nil, ""), "op-owner"); err != nil {
				t.Fatal(err)
			}
			if hits, err := b.Search(ctx, other, mustQuery(t, "vault code", 10)); err != nil || len(hits) != 0 {
				t.Fatalf("scope %s/%s sees %v (%v)", other.AgentID(), other.UserID(), hits, err)
			}
			if ids, err := b.FindByOperation(ctx, other, "op-owner"); err != nil || len(ids) != 0 {
				t.Fatalf("scope %s/%s finds %v (%v)", other.AgentID(), other.UserID(), ids, err)
			}
		}
	})

	t.Run("search honours the limit and ranks the better match first", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		scope := mustScope(t, "app-1", "")
		for i, c := range []string{"coffee in the morning", "coffee with oat milk in the morning", "tea at night", "coffee beans from Kenya"} {
			if _, err := b.Add(ctx, scope, mustDraft(t, c, nil, ""), "op-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		hits, err := b.Search(ctx, scope, mustQuery(t, "coffee oat milk", 2))
		if err != nil || len(hits) != 2 {
			t.Fatalf("limit 2: %v %v", hits, err)
		}
		if hits[0].Content != "coffee with oat milk in the morning" || hits[0].Relevance < hits[1].Relevance {
			t.Fatalf("ranking: %+v", hits)
		}
	})
}

func mustScope(t *testing.T, app, user string) memory.Scope {
	s, err := memory.NewScope(app, user)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustDraft(t *testing.T, content string, meta map[string]any, conv string) memory.Draft {
	d, err := memory.NewDraft(content, meta, conv)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustQuery(t *testing.T, text string, limit int) memory.Query {
	q, err := memory.NewQuery(text, &limit)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}
