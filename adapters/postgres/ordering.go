package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Writes of one scope take effect in the order they were accepted (their seq).
// A write whose turn has not come sets its command aside (waiting) and the
// write before it sends that command again when it ends. Both sides first lock
// the scope's row, each in a statement of its own, so that the look at the
// scope's pending writes runs after the other side committed: no write can end
// unseen between a later write's check and its marking itself waiting.

// lockScope holds op's scope until the transaction ends.
func lockScope(ctx context.Context, tx pgx.Tx, op *operation.Operation) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM custom_gpt_scopes WHERE app_id = $1 AND end_user = $2 FOR UPDATE`,
		op.AppID(), op.EndUser())
	if err != nil {
		return fmt.Errorf("lock scope: %w", err)
	}
	return nil
}

// waitForEarlier tells whether a write of op's scope accepted before op is
// still pending, and records the answer as op's waiting flag.
func waitForEarlier(ctx context.Context, tx pgx.Tx, op *operation.Operation) (bool, error) {
	if err := lockScope(ctx, tx, op); err != nil {
		return false, err
	}
	var earlier bool
	err := tx.QueryRow(ctx, `WITH earlier AS (
			SELECT EXISTS (SELECT 1 FROM custom_gpt_operations
				WHERE app_id = $1 AND end_user = $2 AND seq < $3 AND status = 'pending') AS pending),
		mark AS (
			UPDATE custom_gpt_operations o SET waiting = earlier.pending FROM earlier
			WHERE o.id = $4 AND o.waiting <> earlier.pending)
		SELECT pending FROM earlier`, op.AppID(), op.EndUser(), op.Seq(), op.ID()).Scan(&earlier)
	if err != nil {
		return false, fmt.Errorf("look for earlier writes: %w", err)
	}
	return earlier, nil
}

// nextWaiting returns the kept command of the write of op's scope that comes
// next after op, when it is pending and waiting; nil otherwise.
func nextWaiting(ctx context.Context, tx pgx.Tx, op *operation.Operation) (any, error) {
	if err := lockScope(ctx, tx, op); err != nil {
		return nil, err
	}
	var (
		waiting bool
		name    *string
		payload []byte
	)
	err := tx.QueryRow(ctx, `SELECT waiting, command_name, command FROM custom_gpt_operations
		WHERE app_id = $1 AND end_user = $2 AND seq > $3 AND status = 'pending'
		ORDER BY seq LIMIT 1`, op.AppID(), op.EndUser(), op.Seq()).Scan(&waiting, &name, &payload)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!waiting || name == nil || payload == nil)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for the next write: %w", err)
	}
	return decodeKeptCommand(*name, payload)
}

// decodeKeptCommand rebuilds a command kept in its operation's row.
func decodeKeptCommand(name string, payload []byte) (any, error) {
	cmd, ok := events.NewCommand(name)
	if !ok {
		return nil, fmt.Errorf("kept command: no command named %q", name)
	}
	if err := json.Unmarshal(payload, cmd); err != nil {
		return nil, fmt.Errorf("kept command %s: %w", name, err)
	}
	return cmd, nil
}
