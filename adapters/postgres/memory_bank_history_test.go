package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
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
	pool, err := postgres.Connect(ctx, pgtest.NewURL(t), 4)
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

// Deletions are recorded like mem0 records them, and a history row names its scope.
func TestEmbeddedBankRecordsDeletions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	bank := postgres.NewEmbeddedMemoryBank(pool)
	scope := embeddedScope(t, "app-1", "user-x")
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
		ids = append(ids, got[0])
	}
	if err := bank.Delete(ctx, scope, ids[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := bank.DeleteAll(ctx, scope); err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d %v, want 2", n, err)
	}

	rows, err := pool.Query(ctx, `SELECT memory_id::text, event, coalesce(old_content, ''), new_content IS NULL, agent_id, user_id
		FROM custom_gpt_embedded_memory_history WHERE event = 'DELETE' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var deleted []string
	for rows.Next() {
		var id, event, old, agent, user string
		var noNew bool
		if err := rows.Scan(&id, &event, &old, &noNew, &agent, &user); err != nil {
			t.Fatal(err)
		}
		if old != "to be forgotten" || !noNew || agent != scope.AgentID() || user != scope.UserID() {
			t.Errorf("DELETE row of %s: old %q, new null %v, scope %s/%s", id, old, noNew, agent, user)
		}
		deleted = append(deleted, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 3 || deleted[0] != ids[0] {
		t.Errorf("DELETE rows for %v, want the single delete first, then the other two: %v", deleted, ids)
	}
}

// Memories created in the same instant page by id, so that a cursor between them
// neither skips nor repeats one.
func TestEmbeddedBankPagesThroughEqualTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	bank := postgres.NewEmbeddedMemoryBank(pool)
	scope := embeddedScope(t, "app-1", "")
	at := time.Date(2024, 7, 20, 17, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	for range 5 {
		id := uuid.New()
		want[id.String()] = true
		if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_embedded_memories (id, agent_id, user_id, content, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, 'same instant', '{}', $4, $4)`, id, scope.AgentID(), scope.UserID(), at); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		p, err := bank.List(ctx, scope, memory.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("memory %s repeated on page %d", r.ID, page)
			}
			seen[r.ID] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != len(want) {
		t.Errorf("paged through %d memories, want %d", len(seen), len(want))
	}
}
