package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// The registry (custom_gpt_memories) holds every memory the service stored,
// with the scope and the write that made it. It is written in the transaction
// that completes the write, so it says exactly what the Memory Bank was told
// to keep: listing, paging, ownership and forgetting read it, never mem0's
// listing, which mem0 caps at 20, 100 or 1000 rows in an order of its own.

// registerMemories records ids as memories of op's scope made by op. An id
// already registered (inference on older mem0 servers folds new content into
// an existing memory) keeps its creator and records op as its newest write.
func registerMemories(ctx context.Context, tx pgx.Tx, op *operation.Operation, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return execLater(ctx, tx, "register memories", `INSERT INTO custom_gpt_memories AS m (memory_id, app_id, end_user, operation_id, seq, written_seq, created_at)
		SELECT id, $2, $3, $4, $5, $5, $6 FROM unnest($1::text[]) AS id
		ON CONFLICT (memory_id) DO UPDATE SET written_seq = greatest(m.written_seq, EXCLUDED.written_seq)
		WHERE m.app_id = EXCLUDED.app_id AND m.end_user = EXCLUDED.end_user`,
		ids, op.AppID(), op.EndUser(), op.ID(), op.Seq(), at)
}

// unregisterMemories drops ids from op's scope: deleted memories.
func unregisterMemories(ctx context.Context, tx pgx.Tx, op *operation.Operation, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM custom_gpt_memories WHERE memory_id = ANY ($1) AND app_id = $2 AND end_user = $3`,
		ids, op.AppID(), op.EndUser())
	if err != nil {
		return fmt.Errorf("unregister memories: %w", err)
	}
	return forgetCachedReads(ctx, tx, op)
}

// forgetCachedReads drops the caller's stored Idempotency-Key responses that
// may quote a memory (a search's 200), so that replaying a key cannot return
// text that was deleted or forgotten: the retry runs again instead. Accepted
// writes (202) quote nothing and stay, so a retried write is still done once.
func forgetCachedReads(ctx context.Context, tx pgx.Tx, op *operation.Operation) error {
	_, err := tx.Exec(ctx, `DELETE FROM custom_gpt_idempotency_keys
		WHERE app_id = $1 AND end_user = $2 AND status = 'completed' AND response_status <> 202`, op.AppID(), op.EndUser())
	if err != nil {
		return fmt.Errorf("drop cached reads: %w", err)
	}
	return nil
}

// rewroteMemory records op as the newest write that changed memory id.
func rewroteMemory(ctx context.Context, tx pgx.Tx, op *operation.Operation, id string) error {
	_, err := tx.Exec(ctx, `UPDATE custom_gpt_memories SET written_seq = greatest(written_seq, $4)
		WHERE memory_id = $1 AND app_id = $2 AND end_user = $3`, id, op.AppID(), op.EndUser(), op.Seq())
	if err != nil {
		return fmt.Errorf("record memory write: %w", err)
	}
	return nil
}

// forgetScope drops every memory of op's scope stored by a write accepted
// before op, and those op itself found in the Memory Bank and registered (at
// its own place), records op as the scope's newest forget (a write accepted
// before it can no longer add what it removed), and returns how many memories
// it dropped: the forget's true count, the same whichever attempt ends it.
func forgetScope(ctx context.Context, tx pgx.Tx, op *operation.Operation) (int, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM custom_gpt_memories WHERE app_id = $1 AND end_user = $2 AND seq <= $3`,
		op.AppID(), op.EndUser(), op.Seq())
	if err != nil {
		return 0, fmt.Errorf("unregister forgotten memories: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE custom_gpt_scopes SET forgot_seq = greatest(forgot_seq, $3)
		WHERE app_id = $1 AND end_user = $2`, op.AppID(), op.EndUser(), op.Seq()); err != nil {
		return 0, fmt.Errorf("record forget: %w", err)
	}
	if err := forgetCachedReads(ctx, tx, op); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// MemoryRegistry reads the registry outside transactions, for the API (pages,
// ownership) and for the worker's decisions about one write.
type MemoryRegistry struct{ pool *pgxpool.Pool }

func NewMemoryRegistry(pool *pgxpool.Pool) *MemoryRegistry { return &MemoryRegistry{pool: pool} }

// AppsOf returns the applications where endUser has a memory space: every
// scope that was ever written to, forgotten ones included.
func (r *MemoryRegistry) AppsOf(ctx context.Context, endUser string) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT app_id FROM custom_gpt_scopes WHERE end_user = $1 ORDER BY app_id`, endUser)
	if err != nil {
		return nil, fmt.Errorf("memory spaces of a user: %w", err)
	}
	apps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("memory spaces of a user: %w", err)
	}
	return apps, nil
}

// Owns tells whether memory id is one of scope's.
func (r *MemoryRegistry) Owns(ctx context.Context, scope memory.Scope, id string) (bool, error) {
	var ok bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM custom_gpt_memories
		WHERE memory_id = $1 AND app_id = $2 AND end_user = $3)`, id, scope.AppID(), scope.EndUser()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up memory: %w", err)
	}
	return ok, nil
}

// Page returns one page of scope's memories, newest first, and the cursor of
// the next page ("" on the last). The cursor is the (created_at, id) of the
// page's last memory; the next page starts below it, as the scope index reads.
func (r *MemoryRegistry) Page(ctx context.Context, scope memory.Scope, page memory.Page) ([]memory.Registered, string, error) {
	from, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	size := page.Size()
	// The first page and the others are two statements: one condition for
	// both ("no cursor, or below it") would let a plan Postgres keeps for
	// any cursor read every memory above the page, so deep pages would cost
	// more than the first.
	var rows pgx.Rows
	if from == nil {
		rows, err = r.pool.Query(ctx, `SELECT memory_id, operation_id, created_at FROM custom_gpt_memories
			WHERE app_id = $1 AND end_user = $2
			ORDER BY created_at DESC, memory_id DESC
			LIMIT $3`, scope.AppID(), scope.EndUser(), size+1)
	} else {
		rows, err = r.pool.Query(ctx, `SELECT memory_id, operation_id, created_at FROM custom_gpt_memories
			WHERE app_id = $1 AND end_user = $2 AND (created_at, memory_id) < ($3, $4)
			ORDER BY created_at DESC, memory_id DESC
			LIMIT $5`, scope.AppID(), scope.EndUser(), from.CreatedAt, from.ID, size+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("page memories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (memory.Registered, error) {
		var m memory.Registered
		err := row.Scan(&m.ID, &m.OperationID, &m.CreatedAt)
		m.CreatedAt = m.CreatedAt.UTC()
		return m, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("page memories: %w", err)
	}
	if len(out) <= size {
		return out, "", nil
	}
	last := out[size-1]
	return out[:size:size], encodeCursor(position{CreatedAt: last.CreatedAt, ID: last.ID}), nil
}

// RegisteredBefore returns the ids of scope's memories stored by writes
// accepted before seq.
func (r *MemoryRegistry) RegisteredBefore(ctx context.Context, scope memory.Scope, seq int64) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT memory_id FROM custom_gpt_memories
		WHERE app_id = $1 AND end_user = $2 AND seq < $3 ORDER BY memory_id`, scope.AppID(), scope.EndUser(), seq)
	if err != nil {
		return nil, fmt.Errorf("registered memories: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("registered memories: %w", err)
	}
	return ids, nil
}

// LastWrite returns the place of the newest write that changed memory id of
// scope; ok is false when scope holds no such memory.
func (r *MemoryRegistry) LastWrite(ctx context.Context, scope memory.Scope, id string) (seq int64, ok bool, err error) {
	err = r.pool.QueryRow(ctx, `SELECT written_seq FROM custom_gpt_memories
		WHERE memory_id = $1 AND app_id = $2 AND end_user = $3`, id, scope.AppID(), scope.EndUser()).Scan(&seq)
	if err == pgx.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("look up memory: %w", err)
	}
	return seq, true, nil
}

// ForgotAfter tells whether a forget of scope accepted after seq succeeded.
func (r *MemoryRegistry) ForgotAfter(ctx context.Context, scope memory.Scope, seq int64) (bool, error) {
	var forgot bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM custom_gpt_scopes
		WHERE app_id = $1 AND end_user = $2 AND forgot_seq > $3)`, scope.AppID(), scope.EndUser(), seq).Scan(&forgot)
	if err != nil {
		return false, fmt.Errorf("look up forgets: %w", err)
	}
	return forgot, nil
}

// LaterWritesStarted tells whether a write of scope accepted after seq has
// started or ended: only then may the Memory Bank hold something newer.
func (r *MemoryRegistry) LaterWritesStarted(ctx context.Context, scope memory.Scope, seq int64) (bool, error) {
	var started bool
	err := r.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM custom_gpt_operations
		WHERE app_id = $1 AND end_user = $2 AND seq > $3 AND (status <> 'pending' OR attempts > 0))`,
		scope.AppID(), scope.EndUser(), seq).Scan(&started)
	if err != nil {
		return false, fmt.Errorf("look up later writes: %w", err)
	}
	return started, nil
}

// LaterOperations returns which of opIDs are writes of scope accepted after seq.
func (r *MemoryRegistry) LaterOperations(ctx context.Context, scope memory.Scope, seq int64, opIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(opIDs) == 0 {
		return out, nil
	}
	rows, err := r.pool.Query(ctx, `SELECT id FROM custom_gpt_operations
		WHERE id = ANY ($1) AND app_id = $2 AND end_user = $3 AND seq > $4`, opIDs, scope.AppID(), scope.EndUser(), seq)
	if err != nil {
		return nil, fmt.Errorf("look up later writes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up later writes: %w", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
