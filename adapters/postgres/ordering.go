package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Writes of one scope take effect in the order they were accepted (their seq).
// A write whose turn has not come sets its command aside (waiting) and the
// write before it hands it the turn when it ends. Both sides first take the
// scope's turn lock, each in a statement of its own, so that the look at the
// scope's pending writes runs after the other side committed: no write can end
// unseen between a later write's check and its marking itself waiting.
//
// The turn lock is a transaction-scoped advisory lock on the scope, not its
// row in custom_gpt_scopes: accepting a write locks that row to take the next
// seq, and while the API accepts at its max a batch of accepts holds it
// nearly all the time, so a worker waiting for the row stored a handful of
// writes a second. The worker sides need only exclude each other. Two scopes
// whose keys collide share a lock, which costs only waiting.

// scopeTurnLocks is the first key of every scope's turn lock: the two-key
// advisory locks do not overlap the one-key ones (goose's migration lock).
const scopeTurnLocks = 0x63677074 // "cgpt"

// turnLockKey is the SQL of a scope's turn lock's second key, app and user
// being SQL text expressions: whoever takes the lock (an ending write, an
// accept) must name it alike, or they no longer exclude each other.
func turnLockKey(app, user string) string {
	return fmt.Sprintf(`hashtext(format('%%s:%%s:%%s', length(%[1]s), %[1]s, %[2]s))`, app, user)
}

// lockScope holds op's scope's turn until the transaction ends. In a pipeTx
// the lock goes out with the look that follows it, still a statement before it.
func lockScope(ctx context.Context, tx pgx.Tx, op *operation.Operation) error {
	return execLater(ctx, tx, "lock scope", lockScopeSQL, scopeTurnLocks, op.AppID(), op.EndUser())
}

var lockScopeSQL = `SELECT pg_advisory_xact_lock($1, ` + turnLockKey("$2::text", "$3::text") + `)`

// tryLockScopes takes, of the turn locks of the scopes apps[i], users[i],
// those no other transaction holds, without waiting, and notes the places
// (from 1) of those it took in the transaction's setting
// custom_gpt.turns_locked, for the statements that follow: their snapshots
// are taken after the locks, the statement that takes them cannot see what
// committed while it took them.
// An accept waiting for an ending write's commit would hold up every accept
// of its batch; a scope whose lock is busy is simply not looked at.
func tryLockScopes(ctx context.Context, tx pgx.Tx, apps, users []string) error {
	return execLater(ctx, tx, "lock scopes", tryLockScopesSQL, scopeTurnLocks, apps, users)
}

var tryLockScopesSQL = `SELECT set_config('custom_gpt.turns_locked',
		coalesce(array_agg(i) FILTER (WHERE pg_try_advisory_xact_lock($1, ` + turnLockKey("a", "u") + `)), '{}')::text, true)
	FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(a, u, i)`

// waitForEarlier tells whether a write of op's scope accepted before op is
// still pending, and records the answer as op's waiting flag. A transaction
// that only marks its write waiting commits without waiting for the disk, so
// it holds the turn lock for less: should Postgres itself crash before the
// mark is flushed, the write is not handed the turn, and LostCommands sends
// its command again after CUSTOM_GPT_RESEND_AFTER.
func waitForEarlier(ctx context.Context, tx pgx.Tx, op *operation.Operation) (bool, error) {
	if err := lockScope(ctx, tx, op); err != nil {
		return false, err
	}
	var earlier bool
	err := tx.QueryRow(ctx, waitForEarlierSQL, op.AppID(), op.EndUser(), op.Seq(), op.ID()).Scan(&earlier, nil)
	if err != nil {
		return false, fmt.Errorf("look for earlier writes: %w", err)
	}
	return earlier, nil
}

var waitForEarlierSQL = `WITH earlier AS (
		SELECT coalesce(` + firstPendingSQL("$1", "$2") + ` < $3, false) AS pending),
	mark AS (
		UPDATE custom_gpt_operations o SET waiting = earlier.pending FROM earlier
		WHERE o.id = $4 AND o.waiting <> earlier.pending)
	SELECT pending, CASE WHEN pending THEN set_config('synchronous_commit', 'off', true) END
	FROM earlier`

// firstPendingSQL is the SQL of the place of the first pending write of the
// scope app, user (SQL expressions), or NULL. Asked as EXISTS, whether any
// or an earlier one is pending, Postgres's generic plan scanned the table
// once pending writes were common (a backlog of a stopped worker): it
// expected an early match, but a scope's ended writes come first, and each
// question read them all (13 ms per question at 66,000 ended writes). The
// first pending place is one step through custom_gpt_operations_pending_seq
// whatever the plan.
func firstPendingSQL(app, user string) string {
	return fmt.Sprintf(`(SELECT f.seq FROM custom_gpt_operations f
		WHERE f.app_id = %s AND f.end_user = %s AND f.status = 'pending' ORDER BY f.seq LIMIT 1)`, app, user)
}

// pendingWrite is the pending write that comes next in a scope, as the write
// before it sees it when it ends (nextWaiting) or when its command comes back
// (strandedNext).
type pendingWrite struct {
	waiting bool
	lease   pgtime
	name    *string
	payload []byte
}

// pendingAfter takes op's scope's turn lock, then reads the pending writes
// of op's scope that come next after op, in their order, at most n.
func pendingAfter(ctx context.Context, tx pgx.Tx, op *operation.Operation, n int) ([]pendingWrite, error) {
	if err := lockScope(ctx, tx, op); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, pendingAfterSQL, op.AppID(), op.EndUser(), op.Seq(), max(n, 1))
	if err != nil {
		return nil, fmt.Errorf("look for the next writes: %w", err)
	}
	writes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (w pendingWrite, err error) {
		return w, row.Scan(&w.waiting, &w.lease, &w.name, &w.payload)
	})
	if err != nil {
		return nil, fmt.Errorf("look for the next writes: %w", err)
	}
	return writes, nil
}

var pendingAfterSQL = `SELECT waiting, lease_until, command_name, command FROM custom_gpt_operations
	WHERE app_id = $1 AND end_user = $2 AND seq > $3 AND status = 'pending'
	ORDER BY seq LIMIT $4`

// nextPending is the pending write of op's scope that comes next after op;
// found is false when there is none.
func nextPending(ctx context.Context, tx pgx.Tx, op *operation.Operation) (w pendingWrite, found bool, err error) {
	writes, err := pendingAfter(ctx, tx, op, 1)
	if err != nil || len(writes) == 0 {
		return w, false, err
	}
	return writes[0], true, nil
}

// kept tells whether the write's row keeps its command.
func (w pendingWrite) kept() bool { return w.name != nil && w.payload != nil }

// nextWaiting returns the kept commands of the writes of op's scope that come
// right after op, in their order, for as long as each is pending, waiting and
// keeps its command; at most most of them.
func nextWaiting(ctx context.Context, tx pgx.Tx, op *operation.Operation, most int) ([]any, error) {
	writes, err := pendingAfter(ctx, tx, op, most)
	if err != nil {
		return nil, err
	}
	var cmds []any
	for _, w := range writes {
		if !w.waiting || !w.kept() {
			break
		}
		cmd, err := decodeKeptCommand(*w.name, w.payload)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}

// strandedNext looks at the pending write of op's scope that comes next after
// op (command.Tx.StrandedNext).
func strandedNext(ctx context.Context, tx pgx.Tx, op *operation.Operation, now time.Time) (any, bool, error) {
	w, found, err := nextPending(ctx, tx, op)
	switch {
	case err != nil || !found:
		return nil, false, err
	case now.Before(w.lease.t()):
		return nil, true, nil
	case (!w.waiting && w.lease.t().IsZero()) || !w.kept():
		return nil, false, nil // its own delivery is still to come
	}
	cmd, err := decodeKeptCommand(*w.name, w.payload)
	return cmd, false, err
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
