package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// staleCommands claims the kept commands of stalled operations. SKIP LOCKED
// lets several workers look at once without resending one command twice.
func staleCommands(ctx context.Context, tx pgx.Tx, name string, before, now time.Time, limit int) ([]any, error) {
	rows, err := tx.Query(ctx, `
		UPDATE custom_gpt_operations o SET resent_at = $3
		FROM (SELECT id FROM custom_gpt_operations
		      WHERE command IS NOT NULL AND status = 'pending' AND command_name = $1
		        AND updated_at < $2 AND (resent_at IS NULL OR resent_at < $2)
		        AND (lease_until IS NULL OR lease_until < $3)
		      ORDER BY created_at LIMIT $4
		      FOR UPDATE SKIP LOCKED) s
		WHERE o.id = s.id
		RETURNING o.command`, name, before, now, limit)
	if err != nil {
		return nil, fmt.Errorf("stale commands: %w", err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			return nil, fmt.Errorf("stale commands: %w", err)
		}
		cmd, ok := events.NewCommand(name)
		if !ok {
			return nil, fmt.Errorf("stale commands: no command named %q", name)
		}
		if err := json.Unmarshal(payload, cmd); err != nil {
			return nil, fmt.Errorf("stale command %s: %w", name, err)
		}
		out = append(out, cmd)
	}
	return out, rows.Err()
}
