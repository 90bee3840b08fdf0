// Package banktest is the contract every Memory Bank implementation must keep:
// the mem0 client in both flavors and the embedded Postgres bank run the same
// suite, so the use cases can rely on one behaviour.
package banktest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// Bank is the Memory Bank port as the use cases see it.
type Bank interface {
	Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) (memory.Added, error)
	FindByOperation(ctx context.Context, scope memory.Scope, operationID, hint string) ([]string, error)
	Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error)

	// The lifecycle of one memory. A memory of another scope is errs.NotFound, as a
	// missing one is, and is left unchanged.
	Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error)
	GetMany(ctx context.Context, scope memory.Scope, ids []string) ([]memory.Record, error)
	Update(ctx context.Context, scope memory.Scope, id, content string) error
	Delete(ctx context.Context, scope memory.Scope, id string) error
	DeleteAll(ctx context.Context, scope memory.Scope) (bool, error)
	Held(ctx context.Context, scope memory.Scope) ([]memory.Record, bool, error)
	History(ctx context.Context, scope memory.Scope, id string) ([]memory.Change, error)
}

// Run checks bank against the contract. newBank returns a fresh, empty bank.
func Run(t *testing.T, newBank func(t *testing.T) Bank) {
	runLifecycle(t, newBank)

	t.Run("stored memory is found by its operation and by search", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		scope := mustScope(t, "app-1", "")
		d := mustDraft(t, "Alice is allergic to peanuts", map[string]any{"topic": "health"}, "conv-7")
		added, err := b.Add(ctx, scope, d, "op-1")
		ids := added.IDs
		if err != nil || len(ids) == 0 || added.Pending != "" {
			t.Fatalf("add: %+v %v", added, err)
		}
		found, err := b.FindByOperation(ctx, scope, "op-1", d.Content)
		if err != nil || !sameSet(found, ids) {
			t.Fatalf("find by operation: %v %v, want %v", found, err, ids)
		}
		if none, err := b.FindByOperation(ctx, scope, "op-2", d.Content); err != nil || len(none) != 0 {
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
			if ids, err := b.FindByOperation(ctx, other, "op-owner", "the vault code is 4711"); err != nil || len(ids) != 0 {
				t.Fatalf("scope %s/%s finds %v (%v)", other.AgentID(), other.UserID(), ids, err)
			}
		}
	})

	t.Run("an operation's memory is found however many the scope holds", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		scope := mustScope(t, "app-1", "")
		contents := make([]string, 45) // more than mem0 lists by default (20)
		for i := range contents {
			contents[i] = fmt.Sprintf("fact number %d about the user", i)
		}
		ids := addAll(t, b, scope, contents...)
		for _, i := range []int{0, 22, 44} {
			found, err := b.FindByOperation(ctx, scope, "op-"+contents[i], contents[i])
			if err != nil || !equal(found, []string{ids[i]}) {
				t.Fatalf("find the operation of memory %d: %v %v, want %v", i, found, err, ids[i])
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

// runLifecycle checks what the lifecycle endpoints rely on: reading, changing
// and forgetting memories, always within one scope.
func runLifecycle(t *testing.T, newBank func(t *testing.T) Bank) {
	t.Run("get many reads the scope's memories in the order asked, leaving out the rest", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		ids := addAll(t, b, owner, "first", "second", "third")
		theirs := addAll(t, b, mustScope(t, "app-1", "user-y"), "not yours")
		if err := b.Delete(ctx, owner, ids[1]); err != nil {
			t.Fatal(err)
		}
		asked := []string{ids[2], theirs[0], ids[1], "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293", ids[0]}
		got, err := b.GetMany(ctx, owner, asked)
		if err != nil || !equal(recordIDs(got), []string{ids[2], ids[0]}) {
			t.Fatalf("get many = %v %v, want %v", recordIDs(got), err, []string{ids[2], ids[0]})
		}
		if got[0].Content != "third" || got[0].OperationID() != "op-third" || got[0].CreatedAt.IsZero() {
			t.Fatalf("record = %+v", got[0])
		}
		if none, err := b.GetMany(ctx, owner, nil); err != nil || len(none) != 0 {
			t.Fatalf("get many of nothing = %v %v", none, err)
		}
	})

	t.Run("held lists the scope's memories only", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		ids := addAll(t, b, owner, "one", "two", "three")
		for _, other := range otherScopes(t) {
			addAll(t, b, other, "someone else's")
		}
		held, complete, err := b.Held(ctx, owner)
		if err != nil || !sameSet(recordIDs(held), ids) || !complete {
			t.Fatalf("held = %v (complete %v) %v, want all of %v", recordIDs(held), complete, err, ids)
		}
		if held[0].OperationID() == "" {
			t.Fatalf("held records carry no operation: %+v", held[0])
		}
	})

	t.Run("get reads the scope's memory only", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		added, err := b.Add(ctx, owner, mustDraft(t, "the vault code is 4711", map[string]any{"topic": "secrets"}, ""), "op-get")
		ids := added.IDs
		if err != nil || len(ids) != 1 {
			t.Fatalf("add: %+v %v", added, err)
		}
		r, err := b.Get(ctx, owner, ids[0])
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if r.ID != ids[0] || r.Content != "the vault code is 4711" || r.OperationID() != "op-get" || r.Metadata["topic"] != "secrets" ||
			r.CreatedAt.IsZero() || r.UpdatedAt.IsZero() {
			t.Fatalf("get = %+v", r)
		}
		for _, other := range otherScopes(t) {
			_, err := b.Get(ctx, other, ids[0])
			requireNotFound(t, err, "get from "+other.UserID())
		}
		for _, id := range []string{"0190b1d2-7c1e-7a9b-8c3d-4e5f60718293", "not-a-uuid", "../memories", ""} {
			_, err := b.Get(ctx, owner, id)
			requireNotFound(t, err, "get "+id)
		}
	})

	t.Run("update changes the scope's memory only", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		id := addAll(t, b, owner, "likes green tea")[0]
		for _, other := range otherScopes(t) {
			requireNotFound(t, b.Update(ctx, other, id, "hijacked"), "update from "+other.UserID())
		}
		requireNotFound(t, b.Update(ctx, owner, "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293", "x"), "update of a missing memory")
		if r, err := b.Get(ctx, owner, id); err != nil || r.Content != "likes green tea" {
			t.Fatalf("after refused updates: %+v %v", r, err)
		}

		if err := b.Update(ctx, owner, id, "likes black coffee"); err != nil {
			t.Fatalf("update: %v", err)
		}
		r, err := b.Get(ctx, owner, id)
		if err != nil || r.Content != "likes black coffee" {
			t.Fatalf("after update: %+v %v", r, err)
		}
		if r.OperationID() != "op-likes green tea" || r.Metadata[memory.TagAppID] != "app-1" {
			t.Fatalf("update lost the metadata: %v", r.Metadata)
		}
		if r.UpdatedAt.Before(r.CreatedAt) {
			t.Fatalf("updated_at %v before created_at %v", r.UpdatedAt, r.CreatedAt)
		}
		hits, err := b.Search(ctx, owner, mustQuery(t, "black coffee", 5))
		if err != nil || len(hits) != 1 || hits[0].ID != id || hits[0].Content != "likes black coffee" {
			t.Fatalf("search after update: %+v %v", hits, err)
		}
	})

	t.Run("delete removes the scope's memory only", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		ids := addAll(t, b, owner, "keep me", "delete me")
		for _, other := range otherScopes(t) {
			requireNotFound(t, b.Delete(ctx, other, ids[1]), "delete from "+other.UserID())
		}
		if _, err := b.Get(ctx, owner, ids[1]); err != nil {
			t.Fatalf("a refused delete removed the memory: %v", err)
		}

		if err := b.Delete(ctx, owner, ids[1]); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err := b.Get(ctx, owner, ids[1])
		requireNotFound(t, err, "get after delete")
		requireNotFound(t, b.Delete(ctx, owner, ids[1]), "second delete")
		if found, err := b.FindByOperation(ctx, owner, "op-delete me", "delete me"); err != nil || len(found) != 0 {
			t.Fatalf("find by operation after delete: %v %v", found, err)
		}
		if held, _, err := b.Held(ctx, owner); err != nil || !equal(recordIDs(held), ids[:1]) {
			t.Fatalf("held after delete: %v %v", recordIDs(held), err)
		}
	})

	t.Run("delete all empties the scope, at once or soon, and leaves other scopes", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		addAll(t, b, owner, "one", "two", "three")
		others := otherScopes(t)
		for _, other := range others {
			addAll(t, b, other, "someone else's")
		}

		async, err := b.DeleteAll(ctx, owner)
		if err != nil {
			t.Fatalf("delete all: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			held, _, err := b.Held(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			if len(held) == 0 {
				break
			}
			if !async || time.Now().After(deadline) {
				t.Fatalf("the scope still holds %v (async %v)", recordIDs(held), async)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, other := range others {
			held, _, err := b.Held(ctx, other)
			if err != nil || len(held) != 1 || held[0].Content != "someone else's" {
				t.Fatalf("scope %s lost its memory: %+v %v", other.UserID(), held, err)
			}
		}
	})

	t.Run("history shows ADD then UPDATE to the scope only", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := newBank(t)
		owner := mustScope(t, "app-1", "user-x")
		id := addAll(t, b, owner, "lives in Berlin")[0]
		if err := b.Update(ctx, owner, id, "lives in Lisbon"); err != nil {
			t.Fatal(err)
		}
		changes, err := b.History(ctx, owner, id)
		if err != nil || len(changes) != 2 {
			t.Fatalf("history = %+v %v, want 2 changes", changes, err)
		}
		add, upd := changes[0], changes[1]
		if add.Event != memory.EventAdd || add.NewContent != "lives in Berlin" || add.OldContent != "" {
			t.Fatalf("first change = %+v, want the ADD", add)
		}
		if upd.Event != memory.EventUpdate || upd.OldContent != "lives in Berlin" || upd.NewContent != "lives in Lisbon" {
			t.Fatalf("second change = %+v, want the UPDATE", upd)
		}
		for _, c := range changes {
			if c.MemoryID != id || c.ID == "" || c.CreatedAt.IsZero() {
				t.Fatalf("change %+v lacks its ids or time", c)
			}
		}
		if add.ID == upd.ID || upd.CreatedAt.Before(add.CreatedAt) {
			t.Fatalf("changes out of order: %+v", changes)
		}
		for _, other := range otherScopes(t) {
			_, err := b.History(ctx, other, id)
			requireNotFound(t, err, "history from "+other.UserID())
		}
		_, err = b.History(ctx, owner, "0190b1d2-7c1e-7a9b-8c3d-4e5f60718293")
		requireNotFound(t, err, "history of a missing memory")
	})
}

// otherScopes are the neighbours of app-1/user-x: same app other user, the app
// itself, same user name in another app.
func otherScopes(t *testing.T) []memory.Scope {
	return []memory.Scope{mustScope(t, "app-1", "user-y"), mustScope(t, "app-1", ""), mustScope(t, "app-2", "user-x")}
}

// addAll stores each content in order, tagged with operation "op-<content>", and
// returns one id per content.
func addAll(t *testing.T, b Bank, scope memory.Scope, contents ...string) []string {
	t.Helper()
	var ids []string
	for _, c := range contents {
		got, err := b.Add(context.Background(), scope, mustDraft(t, c, nil, ""), "op-"+c)
		if err != nil || len(got.IDs) != 1 || got.Pending != "" {
			t.Fatalf("add %q: %+v %v", c, got, err)
		}
		ids = append(ids, got.IDs[0])
	}
	return ids
}

// requireNotFound fails unless err is a permanent errs.NotFound: a use case must
// neither retry it nor tell it apart from a memory of another scope.
func requireNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("%s: %v, want not found", what, err)
	}
	if memory.IsTransient(err) {
		t.Fatalf("%s: not found is transient: %v", what, err)
	}
}

func recordIDs(rs []memory.Record) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
