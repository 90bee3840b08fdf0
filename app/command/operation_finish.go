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
func (r runner) finish(ctx context.Context, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error) error {
	next, err := finishOperation(ctx, r.tx, id, fn)
	if err == nil && next != nil {
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
// waiting for this one, to be sent once the transaction committed.
func finishOperation(ctx context.Context, t Transactor, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error) (next any, err error) {
	err = t.InTx(ctx, func(ctx context.Context, tx Tx) error {
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
		next, err = tx.NextWaiting(ctx, op)
		return err
	})
	if errors.Is(err, operation.ErrTerminal) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return next, nil
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
