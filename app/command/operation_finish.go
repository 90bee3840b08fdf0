package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// succeed ends the operation, its audit entry, its registry changes and its
// event in one transaction.
func (r runner) succeed(ctx context.Context, operationID string, done succeed) error {
	return r.finish(ctx, operationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		event, err := done(ctx, tx, op, now)
		if err != nil {
			return err
		}
		if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusSucceeded, "", now); err != nil {
			return err
		}
		return tx.Publish(ctx, event)
	})
}

func (r runner) fail(ctx context.Context, cmd events.Command, f operation.Failure) error {
	h := cmd.CommandHeader()
	return r.finish(ctx, h.OperationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		return failWith(ctx, tx, op, h.RequestID, events.MemoryOf(cmd), f, now)
	})
}

// ending is an operation to end, and how: fn is applied to it, locked.
type ending struct {
	id string
	fn func(context.Context, Tx, *operation.Operation, time.Time) error
}

// finish is finishOperations, then hands the turn to the next waiting write.
// When the worker will run that write itself (a chain of turns, see Turns),
// the transaction that ends this write also claims the next one, or a run
// of next ones of an additive kind, so a busy scope's writes cost a commit
// less each. Inside such a run every write but the last leaves its end to
// the last one's transaction (see chain.defers): a run of N writes ends in
// one commit.
func (r runner) finish(ctx context.Context, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error) error {
	ch, _ := ctx.Value(chainKey{}).(*chain)
	if ch.defers(id) {
		ch.deferEnd(ending{id: id, fn: fn}, func(ctx context.Context, ends []ending) error {
			_, _, err := finishOperations(ctx, r.tx, ends, nil, r.cfg.Lease)
			return err
		})
		return nil
	}
	ends := []ending{{id: id, fn: fn}}
	if ch != nil && len(ch.deferred) > 0 {
		ends = append(ch.deferred, ends...)
		ch.deferred, ch.held = nil, nil
	}
	var claim *runClaim
	if turns, ok := r.sender.(*Turns); ok {
		claim = &runClaim{most: DefaultMaxRun, take: func(next []any) int { return turns.runLength(ctx, next) }}
	}
	next, claims, err := finishOperations(ctx, r.tx, ends, claim, r.cfg.Lease)
	if err != nil {
		return err
	}
	if ch != nil {
		ch.unended = nil
	}
	if len(next) > 0 {
		// A lost send is found again by LostCommands: the next write keeps its
		// command. The sender is Turns, which may run it here: it gets ctx, so
		// that a chain of turns stops when the worker does.
		run := &claimedRun{cmds: next[:max(len(claims), 1)], claims: claims, release: r.releaseAll}
		_ = r.sender.Send(context.WithValue(ctx, claimedRunKey{}, run), next[0])
	}
	return nil
}

// releaseAll gives back, in one transaction, the leases of writes claimed
// for a run that did not run them; if this fails, the leases simply expire.
func (r runner) releaseAll(ctx context.Context, claims []claimed) {
	_ = r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return eachClaimed(ctx, tx, claims, func(op *operation.Operation, c claimed) bool {
			op.Release(c.attempt)
			return true
		})
	})
}

// eachClaimed locks the operation of each of claims in turn and saves it
// when change, given it and its claim, says it changed it; an operation
// that no longer exists is skipped.
func eachClaimed(ctx context.Context, tx Tx, claims []claimed, change func(*operation.Operation, claimed) bool) error {
	for _, c := range claims {
		op, err := tx.LockOperation(ctx, c.operationID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !change(op, c) {
			continue
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return err
		}
	}
	return nil
}

// runClaim says how many of the writes waiting next the transaction that
// ends a write claims: take(next) of them, next being at most most.
type runClaim struct {
	most int
	take func(next []any) int
}

// finishOperations applies each ending's fn to its locked operation and
// saves it, all in one transaction, in order; an operation that another
// delivery already finished is left alone. It returns the commands of the
// next writes of the scope that were waiting for the last one, the first to
// be sent once the transaction committed. When claim takes some of them,
// they are claimed under a lease in the same transaction, and what their
// attempts need to know is returned too (for as many as could be claimed).
func finishOperations(ctx context.Context, t Transactor, ends []ending, claim *runClaim, lease time.Duration) (next []any, claims []claimed, err error) {
	err = t.InTx(ctx, func(ctx context.Context, tx Tx) error {
		next, claims = nil, nil // a retried transaction starts afresh
		ops, err := lockEnding(ctx, tx, ends)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		var last *operation.Operation // the last of ops, when this transaction ends it
		for i, op := range ops {
			last = nil
			if op.IsTerminal() {
				continue
			}
			if err := ends[i].fn(ctx, tx, op, now); err != nil {
				return err
			}
			if err := tx.SaveOperation(ctx, op); err != nil {
				return err
			}
			last = op
		}
		if last == nil {
			// Whoever finished the last one handed the turn over.
			return operation.ErrTerminal
		}
		most := 1
		if claim != nil {
			most = claim.most
		}
		if next, err = tx.NextWaiting(ctx, last, most); err != nil || len(next) == 0 || claim == nil {
			return err
		}
		n := min(claim.take(next), len(next))
		if n == 0 {
			return nil
		}
		claims, err = claimRun(ctx, tx, next[:n], lease)
		return err
	})
	if errors.Is(err, operation.ErrTerminal) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return next, claims, nil
}

// lockEnding locks the operations of ends, in one statement.
func lockEnding(ctx context.Context, tx Tx, ends []ending) ([]*operation.Operation, error) {
	ids := make([]string, len(ends))
	for i, e := range ends {
		ids[i] = e.id
	}
	return tx.LockOperations(ctx, ids)
}

// claimRun claims the writes of cmds, in order: the turn of the first has
// come (every write of its scope before it has ended), and each of the
// others follows the one before it. It stops at the first that cannot be
// claimed here (it ended, another transaction holds it, another worker
// leased it): that one's command runs the usual way. It does not wait for
// a write's row: a worker reading that write's command locks the row before
// the scope's turn lock, which this transaction holds already.
func claimRun(ctx context.Context, tx Tx, cmds []any, lease time.Duration) ([]claimed, error) {
	ids := make([]string, 0, len(cmds))
	for _, cmd := range cmds {
		id := events.OperationID(cmd)
		if id == "" {
			break
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ops, err := tx.TryLockOperations(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var claims []claimed
	for _, op := range ops {
		if op == nil || op.Claim(now, lease) != nil {
			break // ended, or leased by another attempt: it runs the usual way
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return nil, err
		}
		claims = append(claims, claimOf(op))
	}
	return claims, nil
}

// failWith ends op as failed, completes its audit entry and publishes the
// failure event of its kind: each kind has its own, so a subscriber reads
// one stream per outcome it cares about, as for successes.
func failWith(ctx context.Context, tx Tx, op *operation.Operation, requestID, memoryID string, f operation.Failure, now time.Time) error {
	kind, ok := events.KindOf(op.Kind())
	if !ok {
		return fmt.Errorf("operation %s is of no kind known here: %q", op.ID(), op.Kind())
	}
	if err := op.Fail(f, now); err != nil {
		return err
	}
	if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusFailed, f.Code+": "+f.Detail, now); err != nil {
		return err
	}
	return tx.Publish(ctx, kind.FailedEvent(events.Failure{
		OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(), MemoryID: memoryID,
		Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
	}))
}

func failureOf(err error) operation.Failure {
	var be *memory.BankError
	if errors.As(err, &be) {
		return operation.Failure{Code: "memory-bank-rejected", Detail: be.Reason}
	}
	return operation.Failure{Code: "internal", Detail: fmt.Sprint(err)}
}
