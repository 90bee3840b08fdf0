package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// EmbeddedMemoryBank is a Memory Bank kept in Postgres and ranked with its
// full-text search. It stands in for mem0 on a laptop or in a trial; it has no
// semantic search and is not meant for production. Like mem0 it keeps a history
// of every memory's changes.
type EmbeddedMemoryBank struct{ pool *pgxpool.Pool }

func NewEmbeddedMemoryBank(pool *pgxpool.Pool) *EmbeddedMemoryBank {
	return &EmbeddedMemoryBank{pool: pool}
}

// Every write stores the memory and its history row in one statement: a data-modifying
// CTE feeds the history insert, so neither exists without the other.
const (
	embeddedAdd = `WITH m AS (
			INSERT INTO custom_gpt_embedded_memories (id, agent_id, user_id, content, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, now(), now())
			RETURNING id, agent_id, user_id, content, created_at)
		INSERT INTO custom_gpt_embedded_memory_history (memory_id, agent_id, user_id, old_content, new_content, event, created_at)
		SELECT id, agent_id, user_id, NULL, content, 'ADD', created_at FROM m`

	// The row is locked as it is read, so the old content is the one the update replaces.
	embeddedUpdate = `WITH prev AS (
			SELECT id, content FROM custom_gpt_embedded_memories
			WHERE id = $1 AND agent_id = $2 AND user_id = $3
			FOR UPDATE),
		m AS (
			UPDATE custom_gpt_embedded_memories m SET content = $4, updated_at = now()
			FROM prev WHERE m.id = prev.id
			RETURNING m.id, m.agent_id, m.user_id, prev.content AS old_content, m.content AS new_content, m.updated_at)
		INSERT INTO custom_gpt_embedded_memory_history (memory_id, agent_id, user_id, old_content, new_content, event, created_at)
		SELECT id, agent_id, user_id, old_content, new_content, 'UPDATE', updated_at FROM m`

	// Deleting a memory also purges its history: mem0 keeps the texts of
	// deleted memories there, but a deleted memory's text must not outlive it
	// in the service's own database.
	embeddedDelete = `WITH m AS (
			DELETE FROM custom_gpt_embedded_memories
			WHERE id = $1 AND agent_id = $2 AND user_id = $3
			RETURNING id),
		h AS (
			DELETE FROM custom_gpt_embedded_memory_history WHERE memory_id IN (SELECT id FROM m))
		SELECT id FROM m`

	// Forgetting everything also purges the scope's history, which holds the
	// texts of changed and deleted memories: "forget" must leave none behind.
	embeddedDeleteAll = `WITH m AS (
			DELETE FROM custom_gpt_embedded_memories WHERE agent_id = $1 AND user_id = $2 RETURNING id),
		h AS (
			DELETE FROM custom_gpt_embedded_memory_history WHERE agent_id = $1 AND user_id = $2)
		SELECT count(*) FROM m`
)

// Add stores d verbatim as one memory, at once.
func (b *EmbeddedMemoryBank) Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) (memory.Added, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return memory.Added{}, err
	}
	tags, err := json.Marshal(d.Tags(scope, operationID))
	if err != nil {
		return memory.Added{}, &memory.BankError{Reason: "metadata is not JSON", Err: err}
	}
	_, err = b.pool.Exec(ctx, embeddedAdd, id, scope.AgentID(), scope.UserID(), d.Content, tags)
	if err != nil {
		return memory.Added{}, embeddedUnavailable(err)
	}
	return memory.Added{IDs: []string{id.String()}}, nil
}

// AddStatus: the embedded bank adds at once, so it never has an add to follow.
func (b *EmbeddedMemoryBank) AddStatus(context.Context, memory.Scope, string) (memory.Added, error) {
	return memory.Added{}, &memory.BankError{Transient: true, Reason: "no such add", Err: memory.ErrWorkLost}
}

// FindByOperation reads the operation's tag through its index.
func (b *EmbeddedMemoryBank) FindByOperation(ctx context.Context, scope memory.Scope, operationID, _ string) ([]string, error) {
	rows, err := b.pool.Query(ctx, `SELECT id::text FROM custom_gpt_embedded_memories
		WHERE agent_id = $1 AND user_id = $2 AND metadata ->> 'operation_id' = $3 ORDER BY id`,
		scope.AgentID(), scope.UserID(), operationID)
	if err != nil {
		return nil, embeddedUnavailable(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// searchCandidates is how many matches a search ranks at most, the newest:
// ranking costs about 5 µs a memory, and the words of a common query are in
// nearly every memory of a scope (all of them ranked took 400 ms at 100,000;
// BENCHMARKS.md).
const searchCandidates = 1000

// embeddedSearch ranks the newest matches of any word of $3, then reads the
// texts of the best only. It is planned for each search's words (see
// custom_gpt_any_word): a plan kept for any words would read every match of
// common ones, or scan the whole scope for rare ones.
const embeddedSearch = `
	SELECT m.id::text, m.content, m.metadata, m.created_at, best.rank
	FROM (
		SELECT id, created_at, ts_rank_cd(document, custom_gpt_any_word($3), 32) AS rank
		FROM (
			SELECT id, created_at, document FROM custom_gpt_embedded_memories
			WHERE agent_id = $1 AND user_id = $2 AND document @@ custom_gpt_any_word($3)
			ORDER BY created_at DESC, id DESC
			LIMIT $5) AS newest
		ORDER BY rank DESC, created_at DESC
		LIMIT $4) AS best
	JOIN custom_gpt_embedded_memories m ON m.id = best.id
	ORDER BY best.rank DESC, best.created_at DESC`

// Search matches any word of the query (OR of its stemmed lexemes) and ranks
// with ts_rank_cd normalised by rank/(rank+1), which keeps relevance in 0..1.
// Where more than searchCandidates memories of the scope match, the older ones
// are left unranked: words fewer memories share still find them.
func (b *EmbeddedMemoryBank) Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error) {
	return b.search(ctx, scope, q, searchCandidates)
}

// search ranks the newest candidates matches of q in scope.
func (b *EmbeddedMemoryBank) search(ctx context.Context, scope memory.Scope, q memory.Query, candidates int) ([]memory.Hit, error) {
	// Not prepared: Postgres plans each search with its words (one round
	// trip still, and no statement cache it depends on).
	rows, err := b.pool.Query(ctx, embeddedSearch, pgx.QueryExecModeExec,
		scope.AgentID(), scope.UserID(), q.Text, q.Limit, candidates)
	if err != nil {
		return nil, embeddedUnavailable(err)
	}
	defer rows.Close()
	var hits []memory.Hit
	for rows.Next() {
		var (
			h    memory.Hit
			meta []byte
		)
		if err := rows.Scan(&h.ID, &h.Content, &meta, &h.CreatedAt, &h.Relevance); err != nil {
			return nil, fmt.Errorf("scan memory: %w", err)
		}
		if err := json.Unmarshal(meta, &h.Metadata); err != nil {
			return nil, fmt.Errorf("decode memory metadata: %w", err)
		}
		h.CreatedAt = h.CreatedAt.UTC()
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// Held returns up to 1000 memories of scope, as mem0's listing would, and
// whether they are all.
func (b *EmbeddedMemoryBank) Held(ctx context.Context, scope memory.Scope) ([]memory.Record, bool, error) {
	const most = 1000
	rows, err := b.pool.Query(ctx, `SELECT id::text, content, metadata, created_at, updated_at
		FROM custom_gpt_embedded_memories WHERE agent_id = $1 AND user_id = $2 LIMIT $3`, scope.AgentID(), scope.UserID(), most+1)
	if err != nil {
		return nil, false, embeddedUnavailable(err)
	}
	records, err := pgx.CollectRows(rows, scanEmbeddedMemory)
	if err != nil {
		return nil, false, embeddedUnavailable(err)
	}
	if len(records) > most {
		return records[:most], false, nil
	}
	return records, true, nil
}

// GetMany returns the memories of ids that scope holds, in the order of ids.
func (b *EmbeddedMemoryBank) GetMany(ctx context.Context, scope memory.Scope, ids []string) ([]memory.Record, error) {
	var us []uuid.UUID
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			us = append(us, u)
		}
	}
	rows, err := b.pool.Query(ctx, `SELECT id::text, content, metadata, created_at, updated_at
		FROM custom_gpt_embedded_memories WHERE id = ANY ($1) AND agent_id = $2 AND user_id = $3`, us, scope.AgentID(), scope.UserID())
	if err != nil {
		return nil, embeddedUnavailable(err)
	}
	records, err := pgx.CollectRows(rows, scanEmbeddedMemory)
	if err != nil {
		return nil, embeddedUnavailable(err)
	}
	byID := make(map[string]memory.Record, len(records))
	for _, r := range records {
		byID[r.ID] = r
	}
	out := make([]memory.Record, 0, len(records))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Get returns the memory id of scope; one of another scope is as missing as one
// that does not exist.
func (b *EmbeddedMemoryBank) Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return memory.Record{}, embeddedNotFound()
	}
	rows, err := b.pool.Query(ctx, `SELECT id::text, content, metadata, created_at, updated_at
		FROM custom_gpt_embedded_memories
		WHERE id = $1 AND agent_id = $2 AND user_id = $3`, u, scope.AgentID(), scope.UserID())
	if err != nil {
		return memory.Record{}, embeddedUnavailable(err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanEmbeddedMemory)
	if errors.Is(err, pgx.ErrNoRows) {
		return memory.Record{}, embeddedNotFound()
	}
	if err != nil {
		return memory.Record{}, embeddedUnavailable(err)
	}
	return r, nil
}

// Update replaces the content of the memory id of scope and records the change.
func (b *EmbeddedMemoryBank) Update(ctx context.Context, scope memory.Scope, id, content string) error {
	return b.change(ctx, embeddedUpdate, scope, id, content)
}

// Delete removes the memory id of scope with its history.
func (b *EmbeddedMemoryBank) Delete(ctx context.Context, scope memory.Scope, id string) error {
	return b.change(ctx, embeddedDelete, scope, id)
}

// change runs a write of one memory of scope; it is NotFound when no row was the
// scope's to change.
func (b *EmbeddedMemoryBank) change(ctx context.Context, sql string, scope memory.Scope, id string, args ...any) error {
	u, err := uuid.Parse(id)
	if err != nil {
		return embeddedNotFound()
	}
	tag, err := b.pool.Exec(ctx, sql, append([]any{u, scope.AgentID(), scope.UserID()}, args...)...)
	if err != nil {
		return embeddedUnavailable(err)
	}
	if tag.RowsAffected() == 0 {
		return embeddedNotFound()
	}
	return nil
}

// DeleteAll removes every memory of scope and its history, at once.
func (b *EmbeddedMemoryBank) DeleteAll(ctx context.Context, scope memory.Scope) (bool, error) {
	var n int
	if err := b.pool.QueryRow(ctx, embeddedDeleteAll, scope.AgentID(), scope.UserID()).Scan(&n); err != nil {
		return false, embeddedUnavailable(err)
	}
	return false, nil
}

// History returns the changes of the memory id of scope, oldest first. The memory
// and its history are read together: no row means no such memory in scope.
func (b *EmbeddedMemoryBank) History(ctx context.Context, scope memory.Scope, id string) ([]memory.Change, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, embeddedNotFound()
	}
	rows, err := b.pool.Query(ctx, `SELECT h.id::text, coalesce(h.old_content, ''), coalesce(h.new_content, ''), h.event, h.created_at
		FROM custom_gpt_embedded_memories m
		LEFT JOIN custom_gpt_embedded_memory_history h
		  ON h.memory_id = m.id AND h.agent_id = m.agent_id AND h.user_id = m.user_id
		WHERE m.id = $1 AND m.agent_id = $2 AND m.user_id = $3
		ORDER BY h.id`, u, scope.AgentID(), scope.UserID())
	if err != nil {
		return nil, embeddedUnavailable(err)
	}
	defer rows.Close()
	found := false
	changes := []memory.Change{}
	for rows.Next() {
		found = true
		var (
			changeID, oldContent, newContent, event *string
			at                                      *time.Time
		)
		if err := rows.Scan(&changeID, &oldContent, &newContent, &event, &at); err != nil {
			return nil, fmt.Errorf("scan memory change: %w", err)
		}
		if changeID == nil { // the memory, without history (the join found none)
			continue
		}
		changes = append(changes, memory.Change{
			ID: *changeID, MemoryID: u.String(), OldContent: *oldContent, NewContent: *newContent,
			Event: *event, CreatedAt: at.UTC(),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, embeddedUnavailable(err)
	}
	if !found {
		return nil, embeddedNotFound()
	}
	return changes, nil
}

func scanEmbeddedMemory(row pgx.CollectableRow) (memory.Record, error) {
	var (
		r    memory.Record
		meta []byte
	)
	if err := row.Scan(&r.ID, &r.Content, &meta, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return memory.Record{}, fmt.Errorf("scan memory: %w", err)
	}
	if err := json.Unmarshal(meta, &r.Metadata); err != nil {
		return memory.Record{}, fmt.Errorf("decode memory metadata: %w", err)
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func embeddedUnavailable(err error) error {
	return &memory.BankError{Transient: true, Reason: "embedded memory bank unavailable", Err: err}
}

// embeddedNotFound is the answer for a memory missing or of another scope alike. Its
// permanent BankError says retrying cannot help.
func embeddedNotFound() error {
	return &errs.Error{Kind: errs.KindNotFound, Slug: "memory-not-found", Detail: "no memory with this id",
		Err: &memory.BankError{Reason: "memory not found"}}
}
