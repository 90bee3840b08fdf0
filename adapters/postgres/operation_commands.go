package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// staleCommands claims the kept commands of stalled operations, with the
// stream entry each was last queued as. SKIP LOCKED lets several workers look
// at once without looking at one command twice.
func staleCommands(ctx context.Context, tx pgx.Tx, name string, before, now time.Time, limit int) ([]command.KeptCommand, error) {
	rows, err := tx.Query(ctx, `
		UPDATE custom_gpt_operations o SET resent_at = $3
		FROM (SELECT id FROM custom_gpt_operations
		      WHERE command IS NOT NULL AND status = 'pending' AND command_name = $1
		        AND updated_at < $2 AND (resent_at IS NULL OR resent_at < $2)
		        AND (lease_until IS NULL OR lease_until < $3)
		      ORDER BY created_at LIMIT $4
		      FOR UPDATE SKIP LOCKED) s
		WHERE o.id = s.id
		RETURNING o.command, coalesce(o.command_entry, '')`, name, before, now, limit)
	if err != nil {
		return nil, fmt.Errorf("stale commands: %w", err)
	}
	defer rows.Close()
	var out []command.KeptCommand
	for rows.Next() {
		var (
			payload []byte
			entry   string
		)
		if err := rows.Scan(&payload, &entry); err != nil {
			return nil, fmt.Errorf("stale commands: %w", err)
		}
		cmd, err := decodeKeptCommand(name, payload)
		if err != nil {
			return nil, err
		}
		out = append(out, command.KeptCommand{Command: cmd, Entry: entry})
	}
	return out, rows.Err()
}

// keepCommand keeps cmd in op's row again (a replay), as if newly queued.
func keepCommand(ctx context.Context, tx pgx.Tx, op *operation.Operation, cmd any) error {
	payload, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("keep command: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE custom_gpt_operations
		SET command_name = $2, command = $3, command_entry = NULL, resent_at = NULL WHERE id = $1`,
		op.ID(), events.Name(cmd), payload)
	if err != nil {
		return fmt.Errorf("keep command: %w", err)
	}
	return nil
}

// CommandEntries records which stream entry each operation's command was
// queued as, so that LostCommands can look it up in its stream. The record is
// a hint, not a guarantee (an operation without one is resent only while its
// stream is idle), so it is written without waiting for the WAL flush: one
// round trip, and no fsync, after each batch of queued commands. The setting
// is local to the statement's own transaction, so it only spares this commit
// its flush.
type CommandEntries struct{ pool *pgxpool.Pool }

func NewCommandEntries(pool *pgxpool.Pool) *CommandEntries { return &CommandEntries{pool: pool} }

// RecordAll notes the entries of queued commands in one statement:
// ids[i]'s command became entries[i].
func (c *CommandEntries) RecordAll(ctx context.Context, ids, entries []string) error {
	_, err := c.pool.Exec(ctx, `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
		UPDATE custom_gpt_operations o SET command_entry = e.entry
		FROM async, unnest($1::text[], $2::text[]) AS e(id, entry)
		WHERE o.id = e.id AND o.status = 'pending'`, ids, entries)
	if err != nil {
		return fmt.Errorf("record command entries: %w", err)
	}
	return nil
}
