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
// that one cannot end before this transaction commits.
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
	rows, err := tx.Query(ctx, `WITH placed AS (
			INSERT INTO custom_gpt_scopes AS s (app_id, end_user, last_seq)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
			ON CONFLICT (app_id, end_user) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
			RETURNING app_id, end_user, last_seq)
		SELECT p.app_id, p.end_user, p.last_seq,
			i_.i = ANY (current_setting('custom_gpt.turns_locked')::bigint[]) AND EXISTS (SELECT 1 FROM custom_gpt_operations o
			WHERE o.app_id = p.app_id AND o.end_user = p.end_user AND o.status = 'pending')
		FROM placed p JOIN unnest($1::text[], $2::text[]) WITH ORDINALITY AS i_(app, usr, i)
			ON i_.app = p.app_id AND i_.usr = p.end_user`, apps, users, ns)
	if err != nil {
		return fmt.Errorf("place operations in their scopes: %w", err)
	}
	next := make(map[scope]int64, len(scopes)) // each scope's first place in this batch
	pending := make(map[scope]bool, len(scopes))
	for rows.Next() {
		var (
			s      scope
			last   int64
			behind bool
		)
		if err := rows.Scan(&s.app, &s.user, &last, &behind); err != nil {
			rows.Close()
			return fmt.Errorf("place operations in their scopes: %w", err)
		}
		next[s], pending[s] = last-counts[s]+1, behind
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("place operations in their scopes: %w", err)
	}

	n := len(ops)
	var (
		ids, opApps, opUsers, kinds, statuses, notes = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n)
		seqs     = make([]int64, n)
		created  = make([]time.Time, n)
		updated  = make([]time.Time, n)
		names    = make([]*string, n)
		payloads = make([][]byte, n)
		waiting  = make([]bool, n)
	)
	for i, op := range ops {
		s := scope{op.AppID(), op.EndUser()}
		op.Sequence(next[s])
		next[s]++
		if names[i], payloads[i], err = keptCommand(cmds[i]); err != nil {
			return fmt.Errorf("insert operation %s: %w", op.ID(), err)
		}
		// Only a kept command can be handed over; the ones after it in
		// this batch are behind it in any case.
		waiting[i] = pending[s] && names[i] != nil
		op.PlaceBehind(waiting[i])
		pending[s] = true
		ids[i], opApps[i], opUsers[i], kinds[i], statuses[i], notes[i] = op.ID(), op.AppID(), op.EndUser(),
			string(op.Kind()), string(op.Status()), op.Note()
		seqs[i], created[i], updated[i] = op.Seq(), op.CreatedAt(), op.UpdatedAt()
	}
	return execLater(ctx, tx, "insert operations", `INSERT INTO custom_gpt_operations
		(id, app_id, end_user, kind, status, created_at, updated_at, seq, note, command_name, command, waiting)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
			$7::timestamptz[], $8::bigint[], $9::text[], $10::text[], $11::bytea[], $12::boolean[])`,
		ids, opApps, opUsers, kinds, statuses, created, updated, seqs, notes, names, payloads, waiting)
}
