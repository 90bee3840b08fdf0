package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// This file is the life of an operation that every asynchronous command shares:
// accepted with its audit entry and command in one transaction, claimed under a
// lease by the worker, and finished with its audit entry and event in another.

// WorkerConfig tunes redelivery safety of the worker's command handlers.
type WorkerConfig struct {
	// Lease keeps a duplicate delivery off an operation while one worker calls the
	// Memory Bank; it must outlast the slowest Memory Bank call.
	Lease time.Duration
	// OrphanAfter is how long a command whose operation never committed is
	// retried before it is dropped (the API answered 503 for it).
	OrphanAfter time.Duration
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.OrphanAfter <= 0 {
		c.OrphanAfter = time.Minute
	}
	return c
}

// ErrOrphanCommand marks a command whose operation was never committed.
var ErrOrphanCommand = errors.New("operation of command does not exist")

// ErrStoreUnavailable marks a transaction that failed because the database
// could not be reached. Its command did nothing durable, so it waits for the
// database like a command waits for an open breaker, however long the outage.
var ErrStoreUnavailable = errors.New("the operation store is unreachable")

// storeRetryAfter paces redeliveries while the database is unreachable.
const storeRetryAfter = time.Second

// IsRetryLater tells the transport that err is no failure of the command but a
// "not yet": another worker holds the operation's lease, the operation's
// transaction is not visible yet, or the Memory Bank call was held back (an
// open breaker, a spent budget) without being sent, or the database is
// unreachable. Such a command should be
// redelivered later, without spending its retries or going to the poison
// stream: it stays queued until the Memory Bank takes calls again.
func IsRetryLater(err error) bool {
	_, notSent := memory.NotSent(err)
	return notSent || errors.Is(err, operation.ErrLeased) || errors.Is(err, ErrOrphanCommand) ||
		errors.Is(err, ErrStoreUnavailable)
}

// RetryAfter is how long a "not yet" should wait before its redelivery, when
// known: the time until an open breaker lets a probe through, or a pause while
// the database is unreachable.
func RetryAfter(err error) time.Duration {
	if errors.Is(err, ErrStoreUnavailable) {
		return storeRetryAfter
	}
	d, _ := memory.NotSent(err)
	return d
}

// pending is what an accepted operation writes before its command is sent.
type pending struct {
	operationID, appID, endUser, requestID string
	kind                                   operation.Kind
	action                                 audit.Action
}

// acceptOperation writes the pending operation and its audit entry, and sends the
// command before the transaction commits: if the send fails nothing is written,
// and if the commit fails the worker finds no operation and drops the orphan
// command. Either way the caller gets an error, never a 202 without durability.
func acceptOperation(ctx context.Context, t Transactor, sender CommandSender, p pending, command func(acceptedAt time.Time) any) error {
	now := time.Now().UTC()
	op, err := operation.New(p.operationID, p.appID, p.endUser, p.kind, now)
	if err != nil {
		return err
	}
	err = t.InTx(ctx, func(ctx context.Context, tx Tx) error {
		cmd := command(now)
		if err := tx.InsertOperation(ctx, op, cmd); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, audit.Entry{
			AppID: p.appID, EndUser: p.endUser, Action: p.action, Status: audit.StatusPending,
			RequestID: p.requestID, OperationID: p.operationID, OccurredAt: now,
		}); err != nil {
			return err
		}
		return sender.Send(ctx, cmd)
	})
	if err != nil {
		return errs.Unavailable("not-accepted", "the request could not be stored durably; retry later",
			fmt.Errorf("accept %s: %w", p.kind, err))
	}
	return nil
}

// job is what the worker needs of any command to run its operation.
type job struct {
	operationID string
	appID       string
	endUser     string
	memoryID    string // the memory the command is about, if one
	requestID   string
	acceptedAt  time.Time
}

// succeed ends a succeeded operation inside the completion transaction: it moves
// op to its terminal state and returns the event to publish with it.
type succeed func(op *operation.Operation, now time.Time) (event any, err error)

// attemptFunc makes one attempt at the operation's Memory Bank work. attempt
// counts from 1; above 1 an earlier attempt may have done the work already.
type attemptFunc func(ctx context.Context, scope memory.Scope, attempt int) (succeed, error)

// runner runs operations at least once and idempotently on the operation id.
type runner struct {
	tx  Transactor
	cfg WorkerConfig
}

func newRunner(tx Transactor, cfg WorkerConfig) runner {
	return runner{tx: tx, cfg: cfg.withDefaults()}
}

// run is the skeleton of every command handler. Delivery is at least once, so: a
// finished operation is acknowledged without work; a lease keeps a concurrent
// duplicate from calling the Memory Bank; and work is told which attempt it is,
// so a retry after an attempt that may have done the work can find it done.
// A returned error means "retry later"; permanent failures end the operation.
func (r runner) run(ctx context.Context, j job, work attemptFunc) error {
	scope, err := memory.NewScope(j.appID, j.endUser)
	if err != nil {
		err := r.fail(ctx, j, operation.Failure{Code: "invalid-scope", Detail: err.Error()})
		if isNotFound(err) {
			return nil // no operation to end: an orphan with a scope that could never work
		}
		return err
	}
	attempt, err := r.claim(ctx, j.operationID)
	if errors.Is(err, operation.ErrTerminal) {
		return nil
	}
	if errors.Is(err, ErrOrphanCommand) && time.Since(j.acceptedAt) > r.cfg.OrphanAfter {
		return nil // the API answered 503 for this one: nothing may be done
	}
	if err != nil {
		return err
	}

	done, err := work(ctx, scope, attempt)
	switch {
	case err == nil:
		return r.succeed(ctx, j, done)
	case isNotFound(err):
		// Missing and someone else's are one answer: the caller cannot tell them apart.
		return r.fail(ctx, j, operation.Failure{Code: "memory-not-found", Detail: "no memory with this id"})
	case memory.IsTransient(err):
		// A call left unanswered may still be carried out by the Memory Bank:
		// its lease is kept, so no retry looks for (and, not finding it yet,
		// repeats) its effect until the lease, longer than any call, has ended.
		if !errors.Is(err, memory.ErrNoAnswer) {
			r.release(ctx, j.operationID, attempt)
		}
		return err
	default:
		return r.fail(ctx, j, failureOf(err))
	}
}

// claim takes the operation's lease and returns which attempt this is.
func (r runner) claim(ctx context.Context, id string) (int, error) {
	var attempt int
	err := r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if isNotFound(err) {
			return ErrOrphanCommand
		}
		if err != nil {
			return err
		}
		if err := op.Claim(time.Now(), r.cfg.Lease); err != nil {
			return err
		}
		attempt = op.Attempts()
		return tx.SaveOperation(ctx, op)
	})
	return attempt, err
}

// release gives the lease back after a transient failure so the retry can run
// at once; if this fails too, the lease simply expires.
func (r runner) release(ctx context.Context, id string, attempt int) {
	_ = r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		op.Release(attempt)
		return tx.SaveOperation(ctx, op)
	})
}

// succeed ends the operation, its audit entry and its event in one transaction.
func (r runner) succeed(ctx context.Context, j job, done succeed) error {
	return finishOperation(ctx, r.tx, j.operationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		event, err := done(op, now)
		if err != nil {
			return err
		}
		if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusSucceeded, "", now); err != nil {
			return err
		}
		return tx.Publish(ctx, event)
	})
}

func (r runner) fail(ctx context.Context, j job, f operation.Failure) error {
	return finishOperation(ctx, r.tx, j.operationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		return failWith(ctx, tx, op, j.requestID, j.memoryID, f, now)
	})
}

// finishOperation applies fn to the locked operation and saves it, all in one
// transaction; an operation that another delivery already finished is left alone.
func finishOperation(ctx context.Context, t Transactor, id string, fn func(context.Context, Tx, *operation.Operation, time.Time) error) error {
	err := t.InTx(ctx, func(ctx context.Context, tx Tx) error {
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
		return tx.SaveOperation(ctx, op)
	})
	if errors.Is(err, operation.ErrTerminal) {
		return nil
	}
	return err
}

// failWith ends op as failed, completes its audit entry and publishes the
// failure event of its kind.
func failWith(ctx context.Context, tx Tx, op *operation.Operation, requestID, memoryID string, f operation.Failure, now time.Time) error {
	if err := op.Fail(f, now); err != nil {
		return err
	}
	if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusFailed, f.Code+": "+f.Detail, now); err != nil {
		return err
	}
	return tx.Publish(ctx, failedEvent(op, requestID, memoryID, f, now))
}

// failedEvent is the failure event of op's kind. Each kind has its own, so a
// subscriber reads one stream per outcome it cares about, as for successes.
func failedEvent(op *operation.Operation, requestID, memoryID string, f operation.Failure, now time.Time) any {
	switch op.Kind() {
	case operation.KindUpdateMemory:
		return &events.MemoryUpdateFailed{
			Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(), MemoryID: memoryID,
			Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
		}
	case operation.KindDeleteMemory:
		return &events.MemoryDeletionFailed{
			Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(), MemoryID: memoryID,
			Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
		}
	case operation.KindForgetMemories:
		return &events.MemoriesForgettingFailed{
			Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
			Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
		}
	default: // operation.KindCreateMemory
		return &events.MemoryCreationFailed{
			Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
			Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
		}
	}
}

func failureOf(err error) operation.Failure {
	var be *memory.BankError
	if errors.As(err, &be) {
		return operation.Failure{Code: "memory-bank-rejected", Detail: be.Reason}
	}
	return operation.Failure{Code: "internal", Detail: fmt.Sprint(err)}
}
