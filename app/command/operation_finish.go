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

// finish is finishOperation, then hands the turn to the next waiting write.
// When the worker will run that write itself (a chain of turns, see Turns),
// the transaction that ends this write also claims the next one, so a busy
// scope's writes cost one commit less each.
func (r runner) finish(ctx context.Context, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error) error {
	var preclaim func(next any) bool
	if turns, ok := r.sender.(*Turns); ok {
		preclaim = func(next any) bool { return turns.willRun(ctx, next) }
	}
	next, c, err := finishOperation(ctx, r.tx, id, fn, preclaim, r.cfg.Lease)
	if err == nil && next != nil {
		if c != nil {
			ctx = withClaimed(ctx, *c)
		}
		// A lost send is found again by LostCommands: the next write keeps its
		// command. The sender is Turns, which may run it here: it gets ctx, so
		// that a chain of turns stops when the worker does.
		_ = r.sender.Send(ctx, next)
	}
	return err
}

// finishOperation applies fn to the locked operation and saves it, all in one
// transaction; an operation that another delivery already finished is left
// alone. It returns the command of the next write of the scope that was
// waiting for this one, to be sent once the transaction committed. When
// preclaim says it will be run here, that write is claimed under a lease in
// the same transaction, and what its attempt needs to know is returned too.
func finishOperation(ctx context.Context, t Transactor, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error,
	preclaim func(next any) bool, lease time.Duration) (next any, c *claimed, err error) {
	err = t.InTx(ctx, func(ctx context.Context, tx Tx) error {
		next, c = nil, nil // a retried transaction starts afresh
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		if op.IsTerminal() {
			return operation.ErrTerminal
		}
		if err := fn(ctx, tx, op, time.Now().UTC()); err != nil {
			return err
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return err
		}
		if next, err = tx.NextWaiting(ctx, op); err != nil || next == nil || preclaim == nil || !preclaim(next) {
			return err
		}
		c, err = claimNext(ctx, tx, next, lease)
		return err
	})
	if errors.Is(err, operation.ErrTerminal) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return next, c, nil
}

// claimNext claims the write of cmd, whose turn has come: every write of its
// scope before it has ended. Nil when it cannot be claimed here (it ended,
// another transaction holds it, another worker leased it): its command then
// runs the usual way. It does not wait for the write's row: a worker reading
// that write's command locks the row before the scope's turn lock, which this
// transaction holds already.
func claimNext(ctx context.Context, tx Tx, cmd any, lease time.Duration) (*claimed, error) {
	h, ok := cmd.(events.Command)
	if !ok {
		return nil, nil
	}
	op, err := tx.TryLockOperation(ctx, h.CommandHeader().OperationID)
	if err != nil || op == nil || op.IsTerminal() {
		return nil, err
	}
	if err := op.Claim(time.Now(), lease); err != nil {
		return nil, nil //nolint:nilerr // leased by another attempt: it runs the usual way
	}
	if err := tx.SaveOperation(ctx, op); err != nil {
		return nil, err
	}
	c := claimOf(op)
	return &c, nil
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
