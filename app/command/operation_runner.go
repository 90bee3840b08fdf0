package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// WorkerConfig tunes redelivery safety of the worker's command handlers.
type WorkerConfig struct {
	// Lease keeps a duplicate delivery off an operation while one worker calls the
	// Memory Bank; it must outlast the slowest Memory Bank call. A running
	// attempt renews it, and stops calling the Memory Bank when it cannot.
	Lease time.Duration
	// OrphanAfter is how long a command whose operation does not exist is
	// retried before it is dropped.
	OrphanAfter time.Duration
	// FollowFor bounds how long one attempt follows work the Memory Bank is
	// still doing (mem0's asynchronous add) before it lets the command wait
	// its turn again; default 5s.
	FollowFor time.Duration
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.OrphanAfter <= 0 {
		c.OrphanAfter = time.Minute
	}
	if c.FollowFor <= 0 {
		c.FollowFor = 5 * time.Second
	}
	return c
}

// ErrOrphanCommand marks a command whose operation does not exist.
var ErrOrphanCommand = errors.New("operation of command does not exist")

// ErrStoreUnavailable marks a transaction that failed because the database
// could not be reached, or answered "not now". Its command did nothing durable,
// so it waits for the database like a command waits for an open breaker,
// however long the outage.
var ErrStoreUnavailable = errors.New("the operation store is unreachable")

// errBankBusy marks an attempt that followed the Memory Bank's work for as long
// as it may and found it still running: the command comes back later.
var errBankBusy = errors.New("the Memory Bank is still doing the work")

// storeRetryAfter paces redeliveries while the database is unreachable, and
// while the Memory Bank is still doing work it accepted.
const storeRetryAfter = time.Second

// IsRetryLater tells the transport that err is no failure of the command but a
// "not yet": another worker holds the operation's lease, the operation is not
// visible, the Memory Bank call was held back (an open breaker, a spent
// budget) without being sent, the Memory Bank is still doing the work, or the
// database is unreachable. Such a command is redelivered later, without
// spending its retries or going to the poison stream.
func IsRetryLater(err error) bool {
	_, notSent := memory.NotSent(err)
	return notSent || errors.Is(err, operation.ErrLeased) || errors.Is(err, operation.ErrLeaseLost) ||
		errors.Is(err, ErrOrphanCommand) || errors.Is(err, ErrStoreUnavailable) || errors.Is(err, errBankBusy)
}

// RetryAfter is how long a "not yet" should wait before its redelivery, when
// known: the time until an open breaker lets a probe through, or a pause while
// the database is unreachable or the Memory Bank busy.
func RetryAfter(err error) time.Duration {
	if errors.Is(err, ErrStoreUnavailable) || errors.Is(err, errBankBusy) {
		return storeRetryAfter
	}
	d, _ := memory.NotSent(err)
	return d
}

// claimed is what an attempt knows of its operation.
type claimed struct {
	operationID string
	attempt     int    // from 1; above 1 an earlier attempt may have done the work
	seq         int64  // the operation's place among its scope's writes
	bankEvent   string // work the Memory Bank is still doing for an earlier attempt
	// The lease taken, from when until when: a write claimed for a run
	// waits for its turn without renewing it.
	at, until time.Time
}

// claimOf is what the attempt that just claimed op knows of it.
func claimOf(op *operation.Operation) claimed {
	return claimed{operationID: op.ID(), attempt: op.Attempts(), seq: op.Seq(), bankEvent: op.BankEvent(),
		at: op.UpdatedAt(), until: op.LeaseUntil()}
}

// fresh tells whether less than a third of the claim's lease has passed: a
// write of a run whose end waits for the next write's attempt (at most
// about the Memory Bank's timeout and a follow, well within the rest of a
// default lease) keeps its lease until the run ends.
func (c claimed) fresh(now time.Time) bool {
	return now.Before(c.at.Add(c.until.Sub(c.at) / 3))
}

// succeed ends a succeeded operation inside the completion transaction: it moves
// op to its terminal state, writes the registry, and returns the event to publish.
type succeed func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (event any, err error)

// attemptFunc makes one attempt at the operation's Memory Bank work.
type attemptFunc func(ctx context.Context, scope memory.Scope, c claimed) (succeed, error)

// superseded fails a write that would undo a later write of its scope.
type superseded struct{ detail string }

func (e superseded) Error() string { return "superseded: " + e.detail }

// worker is what every use case that runs an operation holds: the runner,
// the Memory Bank's calls that change what is stored, and the registry of
// what the service stored.
type worker struct {
	runner   runner
	editor   MemoryEditor
	registry Registry
}

func newWorker(tx Transactor, sender CommandSender, editor MemoryEditor, registry Registry, cfg WorkerConfig) worker {
	return worker{runner: newRunner(tx, sender, cfg), editor: editor, registry: registry}
}

// runner runs operations at least once, in their scope's order, and
// idempotently on the operation id.
type runner struct {
	tx     Transactor
	sender CommandSender // hands the turn to the next waiting write
	cfg    WorkerConfig
}

func newRunner(tx Transactor, sender CommandSender, cfg WorkerConfig) runner {
	return runner{tx: tx, sender: sender, cfg: cfg.withDefaults()}
}

// run is the skeleton of every command handler. Delivery is at least once, so
// a finished operation is acknowledged without work, and a write whose scope
// has an earlier write pending steps aside until that one hands it the turn.
// A lease, renewed while the attempt runs, keeps a concurrent duplicate from
// calling the Memory Bank; work is told which attempt it is, so a retry after
// an attempt that may have done the work can find it done. A returned error
// means "retry later"; permanent failures end the operation.
func (r runner) run(ctx context.Context, cmd events.Command, work attemptFunc) error {
	h := cmd.CommandHeader()
	scope, err := memory.NewScope(h.AppID, h.EndUser)
	if err != nil {
		err := r.fail(ctx, cmd, operation.Failure{Code: "invalid-scope", Detail: err.Error()})
		if isNotFound(err) {
			return nil // no operation to end: an orphan with a scope that could never work
		}
		return err
	}
	c, ok := claimedFor(ctx, h.OperationID)
	if !ok {
		c, err = r.claim(ctx, h.OperationID)
	}
	switch {
	case errors.Is(err, operation.ErrTerminal):
		return r.resume(ctx, h.OperationID)
	case errors.Is(err, errWaiting):
		return nil
	case errors.Is(err, ErrOrphanCommand) && time.Since(h.AcceptedAt) > r.cfg.OrphanAfter:
		return nil // its operation never committed: nothing may be done
	case err != nil:
		return err
	}

	attemptCtx, stop := r.keepLease(ctx, h.OperationID, c.attempt)
	done, err := work(attemptCtx, scope, c)
	lost := stop()
	var sup superseded
	switch {
	case err == nil:
		return r.succeed(ctx, h.OperationID, done)
	case lost != nil:
		// The lease ran out under the attempt: whatever it sent may still be
		// carried out, and another worker may hold the operation now.
		return fmt.Errorf("%w: %w", lost, err)
	case errors.As(err, &sup):
		return r.fail(ctx, cmd, operation.Failure{Code: operation.FailureSuperseded, Detail: sup.detail})
	case isNotFound(err):
		// Missing and someone else's are one answer: the caller cannot tell them apart.
		return r.fail(ctx, cmd, operation.Failure{Code: "memory-not-found", Detail: "no memory with this id"})
	case memory.IsTransient(err) || errors.Is(err, errBankBusy):
		// A call left unanswered may still be carried out by the Memory Bank:
		// its lease is kept, so no retry looks for (and, not finding it yet,
		// repeats) its effect until the lease, longer than any call, has ended.
		if !errors.Is(err, memory.ErrNoAnswer) {
			r.release(ctx, h.OperationID, c.attempt)
		}
		return err
	default:
		return r.fail(ctx, cmd, failureOf(err))
	}
}

// resume hands the turn on again from a write that has ended, whose command
// came back. A worker running a chain of turns from a write (see Turns) holds
// that write's command unacknowledged until the chain ends, so the command
// comes back when that worker died, maybe holding the next write, whose own
// delivery was acknowledged when it stepped aside. While an attempt holds the
// next write's lease, the command is asked to come back later (that attempt
// may be alive); once nobody would run that write otherwise, its command is
// sent again. If this fails, LostCommands resends the write later.
func (r runner) resume(ctx context.Context, id string) error {
	var (
		next    any
		running bool
	)
	err := r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		next, running, err = tx.StrandedNext(ctx, op, time.Now())
		return err
	})
	switch {
	case err != nil:
		return nil //nolint:nilerr // the ended write is done; LostCommands covers the next
	case running:
		return operation.ErrLeased
	case next != nil:
		_ = r.sender.Send(ctx, next)
	}
	return nil
}

// errWaiting marks a write that stepped aside for an earlier write of its scope.
var errWaiting = errors.New("an earlier write of the scope is pending")

// claim takes the operation's lease when its turn has come, and returns what
// the attempt needs to know. A write whose turn has not come commits its
// waiting mark and returns errWaiting: the earlier write hands over the turn.
func (r runner) claim(ctx context.Context, id string) (claimed, error) {
	var (
		c       claimed
		waiting bool
	)
	err := r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if isNotFound(err) {
			return ErrOrphanCommand
		}
		if err != nil {
			return err
		}
		if op.IsTerminal() {
			return operation.ErrTerminal
		}
		if waiting, err = tx.WaitForEarlier(ctx, op); err != nil || waiting {
			return err
		}
		if err := op.Claim(time.Now(), r.cfg.Lease); err != nil {
			return err
		}
		c = claimOf(op)
		return tx.SaveOperation(ctx, op)
	})
	if err == nil && waiting {
		return c, errWaiting
	}
	return c, err
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

// awaitBank records, for attempt, the Memory Bank's id of work it is still
// doing, so that a later attempt follows it instead of asking again.
func (r runner) awaitBank(ctx context.Context, id string, attempt int, pending string) error {
	return r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		if err := op.AwaitBank(attempt, pending); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})
}

// forgetBankEvent drops work the Memory Bank lost, so the next attempt asks
// again (after looking for what it may have stored); if this fails, the next
// attempt finds the work lost once more.
func (r runner) forgetBankEvent(ctx context.Context, id string) {
	_ = r.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		op.ForgetBankEvent()
		return tx.SaveOperation(ctx, op)
	})
}
