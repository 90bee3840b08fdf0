package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// Accept commits a with the accepts that arrive meanwhile
// (command.AcceptStore). A batch made only of accepts is written in a
// handful of statements whatever its size (writeAccepts); if it fails, each
// accept is written again on its own, through a.Write.
func (g *TxGroup) Accept(ctx context.Context, a command.Accepted) error {
	return g.commit(&pendingUnit{ctx: context.WithoutCancel(ctx), done: make(chan error, 1), accept: &a,
		fn: func(ctx context.Context, tx command.Tx) error { return a.Write(ctx, tx) }})
}

// acceptsOf gathers the accepts of a batch made only of accepts; ok is false
// when any unit is something else.
func acceptsOf(batch []*pendingUnit) (accepts []command.Accepted, ok bool) {
	for _, p := range batch {
		if p.accept == nil {
			return nil, false
		}
		accepts = append(accepts, *p.accept)
	}
	return accepts, true
}

// writeAccepts writes what accepts write, as Accepted.Write would one by one:
// the operations in two statements (their places, then their rows), the
// audit entries in one, and each Idempotency-Key's reply, when there is one,
// in a statement of its own.
func writeAccepts(ctx context.Context, tx pgx.Tx, accepts []command.Accepted) error {
	ops := make([]*operation.Operation, len(accepts))
	cmds := make([]any, len(accepts))
	entries := make([]audit.Entry, len(accepts))
	for i, a := range accepts {
		ops[i], cmds[i], entries[i] = a.Operation, a.Command, a.Entry
	}
	if err := insertOperations(ctx, tx, ops, cmds); err != nil {
		return err
	}
	if err := insertAudits(ctx, tx, entries); err != nil {
		return err
	}
	for _, a := range accepts {
		if a.Reply == nil {
			continue
		}
		if err := completeIdempotency(ctx, tx, *a.Reply); err != nil {
			return err
		}
	}
	return nil
}

// errNotNew refuses to write an operation with state beyond a new one's:
// insertOperations writes only what a new operation has.
var errNotNew = errors.New("not a new operation")

// insertOperations writes new operations with their kept commands: each
// takes the next place among its scope's writes, in the order given. Taking
// places locks the scopes' rows until commit, so places follow the order in
// which the accepting transactions commit. The places of all the scopes are
// taken in one statement, scopes sorted, so two batches never lock scopes in
// opposite orders.
//
// An operation placed behind a pending write of its scope is written waiting
// (op.Behind), as the worker would mark it on reading its command: that
// write hands it the turn when it ends. The scopes' turn locks are taken
// first, the ones an ending write holds while it looks for the next, so an
// ending write either sees the new operation or has ended before the look
// for a pending one; that look is a statement of its own, whose snapshot
// follows the locks. A scope whose lock another transaction holds is not
// looked at: its first new write is queued, as before this was done.
// Behind an operation of the same batch, an operation waits in any case:
// that one cannot end before this transaction commits. Each operation learns
// its place and waiting mark (Seq, Behind) when the statement's answer is
// read: in a pipeTx, with the commit's.
func insertOperations(ctx context.Context, tx pgx.Tx, ops []*operation.Operation, cmds []any) error {
	type scope struct{ app, user string }
	counts := map[scope]int64{}
	var scopes []scope
	for _, op := range ops {
		if op.Attempts() != 0 || len(op.MemoryIDs()) > 0 || op.Failure() != nil || !op.LeaseUntil().IsZero() ||
			op.BankEvent() != "" || op.Removed() != 0 || op.Status() != operation.StatusPending {
			return fmt.Errorf("insert operation %s: %w", op.ID(), errNotNew)
		}
		s := scope{op.AppID(), op.EndUser()}
		if counts[s] == 0 {
			scopes = append(scopes, s)
		}
		counts[s]++
	}
	slices.SortFunc(scopes, func(a, b scope) int { return cmp.Or(cmp.Compare(a.app, b.app), cmp.Compare(a.user, b.user)) })
	apps, users, ns := make([]string, len(scopes)), make([]string, len(scopes)), make([]int64, len(scopes))
	for i, s := range scopes {
		apps[i], users[i], ns[i] = s.app, s.user, counts[s]
	}
	if err := tryLockScopes(ctx, tx, apps, users); err != nil {
		return err
	}
	n := len(ops)
	var (
		ids, opApps, opUsers, kinds, statuses, notes = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n)
		created  = make([]time.Time, n)
		updated  = make([]time.Time, n)
		names    = make([]*string, n)
		payloads = make([][]byte, n)
		byID     = make(map[string]*operation.Operation, n)
	)
	for i, op := range ops {
		var err error
		if names[i], payloads[i], err = keptCommand(cmds[i]); err != nil {
			return fmt.Errorf("insert operation %s: %w", op.ID(), err)
		}
		ids[i], opApps[i], opUsers[i], kinds[i], statuses[i], notes[i] = op.ID(), op.AppID(), op.EndUser(),
			string(op.Kind()), string(op.Status()), op.Note()
		created[i], updated[i] = op.CreatedAt(), op.UpdatedAt()
		byID[op.ID()] = op
	}
	// The places are read with the commit's answer: an accept needs them
	// only once it is committed, and the batch then costs one round trip.
	return queryLater(ctx, tx, "insert operations", insertOperationsSQL, func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				id      string
				seq     int64
				waiting bool
			)
			if err := rows.Scan(&id, &seq, &waiting); err != nil {
				return err
			}
			if op := byID[id]; op != nil {
				op.Sequence(seq)
				op.PlaceBehind(waiting)
			}
		}
		return rows.Err()
	}, apps, users, ns, ids, opApps, opUsers, kinds, statuses, created, updated, notes, names, payloads)
}

// insertOperationsSQL places new operations in their scopes and writes them,
// in one statement. The scopes ($1-$3, sorted, with their counts) take their
// places first; a scope's first new operation is behind when its turn lock
// was taken (custom_gpt.turns_locked holds the scopes' ordinals) and a write
// of it is pending, in the statement's snapshot, which cannot see the rows it
// inserts. Only a kept command can be handed over, so only an operation that
// keeps one is written waiting; behind an operation of the same batch it
// waits in any case, as that one cannot end before this commits.
var insertOperationsSQL = `WITH placed AS (
		INSERT INTO custom_gpt_scopes AS s (app_id, end_user, last_seq)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
		ON CONFLICT (app_id, end_user) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
		RETURNING app_id, end_user, last_seq),
	scopes AS (
		SELECT p.app_id, p.end_user, p.last_seq - i_.n AS before,
			i_.i = ANY (current_setting('custom_gpt.turns_locked')::bigint[])
				AND ` + firstPendingSQL("p.app_id", "p.end_user") + ` IS NOT NULL AS behind
		FROM placed p JOIN unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS i_(app, usr, n, i)
			ON i_.app = p.app_id AND i_.usr = p.end_user),
	new AS (
		SELECT o.*, row_number() OVER (PARTITION BY o.app_id, o.end_user ORDER BY o.i) AS rank
		FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[],
			$11::text[], $12::text[], $13::bytea[])
			WITH ORDINALITY AS o(id, app_id, end_user, kind, status, created_at, updated_at, note, command_name, command, i)),
	inserted AS (
		INSERT INTO custom_gpt_operations
			(id, app_id, end_user, kind, status, created_at, updated_at, seq, note, command_name, command, waiting)
		SELECT n.id, n.app_id, n.end_user, n.kind, n.status, n.created_at, n.updated_at, s.before + n.rank, n.note,
			n.command_name, n.command, n.command_name IS NOT NULL AND (n.rank > 1 OR s.behind)
		FROM new n JOIN scopes s ON s.app_id = n.app_id AND s.end_user = n.end_user
		ORDER BY n.i
		RETURNING id, seq, waiting)
	SELECT id, seq, waiting FROM inserted`
