package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/migrations"
)

func embeddedScope(t *testing.T, app, user string) memory.Scope {
	t.Helper()
	s, err := memory.NewScope(app, user)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Memories stored before the history table existed get their ADD, and the migration
// can be rolled back and applied again.
func TestEmbeddedHistoryMigrationBackfillsAdds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, pgtest.NewURL(t), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithTableName("custom_gpt_schema_migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	scope := embeddedScope(t, "app-1", "user-x")
	id := uuid.New()
	created := time.Date(2024, 7, 20, 17, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_embedded_memories (id, agent_id, user_id, content, metadata, created_at, updated_at)
		VALUES ($1, $2, $3, 'stored long ago', '{}', $4, $4)`, id, scope.AgentID(), scope.UserID(), created); err != nil {
		t.Fatal(err)
	}

	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	bank := postgres.NewEmbeddedMemoryBank(pool)
	changes, err := bank.History(ctx, scope, id.String())
	if err != nil || len(changes) != 1 {
		t.Fatalf("history = %+v %v, want the backfilled ADD", changes, err)
	}
	if c := changes[0]; c.Event != memory.EventAdd || c.NewContent != "stored long ago" || !c.CreatedAt.Equal(created) || c.MemoryID != id.String() {
		t.Errorf("backfilled change = %+v", c)
	}

	if _, err := p.DownTo(ctx, 3); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if changes, err := bank.History(ctx, scope, id.String()); err != nil || len(changes) != 1 {
		t.Errorf("history after down and up = %+v %v", changes, err)
	}
}

// Deleting a memory purges its history (unlike mem0, which keeps the text);
// forgetting everything purges the scope's history too, and leaves other
// scopes' alone.
func TestEmbeddedBankPurgesDeletedAndForgottenHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	bank := postgres.NewEmbeddedMemoryBank(pool)
	scope := embeddedScope(t, "app-1", "user-x")
	other := embeddedScope(t, "app-1", "user-y")
	draft, err := memory.NewDraft("to be forgotten", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		got, err := bank.Add(ctx, scope, draft, "op")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.IDs[0])
	}
	if _, err := bank.Add(ctx, other, draft, "op"); err != nil {
		t.Fatal(err)
	}
	if err := bank.Delete(ctx, scope, ids[0]); err != nil {
		t.Fatal(err)
	}
	// A deleted memory's text does not outlive it: its history goes with it.
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_embedded_memory_history WHERE memory_id = $1`, ids[0]).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d history rows of the deleted memory remain (%v)", left, err)
	}
	if err := bank.Delete(ctx, scope, ids[0]); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("deleting it again: %v, want not found", err)
	}

	if async, err := bank.DeleteAll(ctx, scope); err != nil || async {
		t.Fatalf("DeleteAll: %v (async %v), want done at once", err, async)
	}
	count := func(s memory.Scope) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_embedded_memory_history WHERE agent_id = $1 AND user_id = $2`,
			s.AgentID(), s.UserID()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(scope); n != 0 {
		t.Fatalf("%d history rows of a forgotten scope remain", n)
	}
	if n := count(other); n != 1 {
		t.Fatalf("another scope's history has %d rows, want its ADD", n)
	}
}
