package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// EmbeddedMemoryBank is a Memory Bank kept in Postgres and ranked with its
// full-text search. It stands in for mem0 on a laptop or in a trial; it has no
// semantic search and is not meant for production.
type EmbeddedMemoryBank struct{ pool *pgxpool.Pool }

func NewEmbeddedMemoryBank(pool *pgxpool.Pool) *EmbeddedMemoryBank {
	return &EmbeddedMemoryBank{pool: pool}
}

func (b *EmbeddedMemoryBank) Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) ([]string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(d.Tags(scope, operationID))
	if err != nil {
		return nil, &memory.BankError{Reason: "metadata is not JSON", Err: err}
	}
	_, err = b.pool.Exec(ctx, `INSERT INTO custom_gpt_embedded_memories (id, agent_id, user_id, content, metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, now(), now())`, id, scope.AgentID(), scope.UserID(), d.Content, tags)
	if err != nil {
		return nil, &memory.BankError{Transient: true, Reason: "embedded memory bank unavailable", Err: err}
	}
	return []string{id.String()}, nil
}

func (b *EmbeddedMemoryBank) FindByOperation(ctx context.Context, scope memory.Scope, operationID string) ([]string, error) {
	rows, err := b.pool.Query(ctx, `SELECT id::text FROM custom_gpt_embedded_memories
		WHERE agent_id = $1 AND user_id = $2 AND metadata ->> 'operation_id' = $3 ORDER BY id`,
		scope.AgentID(), scope.UserID(), operationID)
	if err != nil {
		return nil, &memory.BankError{Transient: true, Reason: "embedded memory bank unavailable", Err: err}
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

// Search matches any word of the query (OR of its stemmed lexemes) and ranks
// with ts_rank_cd normalised by rank/(rank+1), which keeps relevance in 0..1.
func (b *EmbeddedMemoryBank) Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error) {
	rows, err := b.pool.Query(ctx, `
		WITH q AS (
			-- The lexemes are stemmed already: cast them straight to a tsquery,
			-- because stemming a stem again can change it.
			SELECT coalesce(string_agg(quote_literal(lexeme), ' | '), '')::tsquery AS query
			FROM unnest(tsvector_to_array(to_tsvector('english', $3))) AS lexeme
		)
		SELECT m.id::text, m.content, m.metadata, m.created_at, ts_rank_cd(m.document, q.query, 32) AS rank
		FROM custom_gpt_embedded_memories m, q
		WHERE m.agent_id = $1 AND m.user_id = $2 AND m.document @@ q.query
		ORDER BY rank DESC, m.created_at DESC
		LIMIT $4`, scope.AgentID(), scope.UserID(), q.Text, q.Limit)
	if err != nil {
		return nil, &memory.BankError{Transient: true, Reason: "embedded memory bank unavailable", Err: err}
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
