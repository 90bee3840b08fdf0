package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CreateMemory stores one accepted memory in the Memory Bank and finishes its operation.
type CreateMemory struct {
	OperationID    string
	AppID          string
	EndUser        string
	Content        string
	Metadata       map[string]any
	ConversationID string
	RequestID      string
	AcceptedAt     time.Time
}

type CreateMemoryHandler decorator.CommandHandler[CreateMemory]

// CreateMemoryConfig tunes redelivery safety.
type CreateMemoryConfig struct {
	// Lease keeps a duplicate delivery off an operation while one worker calls the
	// Memory Bank; it must outlast the slowest Memory Bank call.
	Lease time.Duration
	// OrphanAfter is how long a command whose operation never committed is
	// retried before it is dropped (the API answered 503 for it).
	OrphanAfter time.Duration
}

type createMemoryHandler struct {
	tx   Transactor
	bank MemoryBank
	cfg  CreateMemoryConfig
}

func NewCreateMemoryHandler(tx Transactor, bank MemoryBank, cfg CreateMemoryConfig, log *slog.Logger, m *decorator.Metrics) CreateMemoryHandler {
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.OrphanAfter <= 0 {
		cfg.OrphanAfter = time.Minute
	}
	return decorator.ApplyCommandDecorators[CreateMemory](createMemoryHandler{tx: tx, bank: bank, cfg: cfg}, log, m)
}

// ErrOrphanCommand marks a command whose operation was never committed.
var ErrOrphanCommand = errors.New("operation of command does not exist")

// IsRetryLater tells the transport that err is no failure of the command but a
// "not yet": another worker holds the operation's lease, or the operation's
// transaction is not visible yet. Such a command should be redelivered later,
// without spending its retries or going to the poison stream.
func IsRetryLater(err error) bool {
	return errors.Is(err, operation.ErrLeased) || errors.Is(err, ErrOrphanCommand)
}

// Handle is idempotent on the operation id. Delivery is at least once, so:
// a finished operation is acknowledged without work; a lease keeps a concurrent
// duplicate from calling the Memory Bank; and a retry after an attempt that may
// have stored the memory looks for it (by the operation id tag) before adding.
// A returned error means "retry later"; permanent failures end the operation.
func (h createMemoryHandler) Handle(ctx context.Context, c CreateMemory) error {
	scope, err := memory.NewScope(c.AppID, c.EndUser)
	if err != nil {
		err := h.fail(ctx, c, operation.Failure{Code: "invalid-scope", Detail: err.Error()})
		if isNotFound(err) {
			return nil // no operation to end: an orphan with a scope that could never work
		}
		return err
	}
	attempt, err := h.claim(ctx, c)
	if errors.Is(err, operation.ErrTerminal) {
		return nil
	}
	if errors.Is(err, ErrOrphanCommand) && time.Since(c.AcceptedAt) > h.cfg.OrphanAfter {
		return nil // the API answered 503 for this one: nothing may be stored
	}
	if err != nil {
		return err
	}

	ids, err := h.store(ctx, scope, c, attempt)
	if err != nil {
		if memory.IsTransient(err) {
			h.release(ctx, c.OperationID, attempt)
			return err
		}
		return h.fail(ctx, c, failureOf(err))
	}
	return h.succeed(ctx, c, ids)
}

// claim takes the operation's lease and returns which attempt this is.
func (h createMemoryHandler) claim(ctx context.Context, c CreateMemory) (int, error) {
	var attempt int
	err := h.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, c.OperationID)
		if isNotFound(err) {
			return ErrOrphanCommand
		}
		if err != nil {
			return err
		}
		if err := op.Claim(time.Now(), h.cfg.Lease); err != nil {
			return err
		}
		attempt = op.Attempts()
		return tx.SaveOperation(ctx, op)
	})
	return attempt, err
}

// release gives the lease back after a transient failure so the retry can run
// at once; if this fails too, the lease simply expires.
func (h createMemoryHandler) release(ctx context.Context, id string, attempt int) {
	_ = h.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		op.Release(attempt)
		return tx.SaveOperation(ctx, op)
	})
}

func (h createMemoryHandler) store(ctx context.Context, scope memory.Scope, c CreateMemory, attempt int) ([]string, error) {
	if attempt > 1 {
		ids, err := h.bank.FindByOperation(ctx, scope, c.OperationID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return ids, nil // an earlier attempt stored it but did not commit
		}
	}
	draft := memory.Draft{Content: c.Content, Metadata: c.Metadata, ConversationID: c.ConversationID}
	return h.bank.Add(ctx, scope, draft, c.OperationID)
}

func (h createMemoryHandler) succeed(ctx context.Context, c CreateMemory, ids []string) error {
	return finishOperation(ctx, h.tx, c.OperationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		if err := op.Succeed(ids, now); err != nil {
			return err
		}
		if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusSucceeded, "", now); err != nil {
			return err
		}
		return tx.Publish(ctx, &events.MemoryCreated{
			Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
			MemoryIDs: ids, RequestID: c.RequestID, OccurredAt: now,
		})
	})
}

func (h createMemoryHandler) fail(ctx context.Context, c CreateMemory, f operation.Failure) error {
	return failOperation(ctx, h.tx, c.OperationID, c.RequestID, f)
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

func failOperation(ctx context.Context, t Transactor, id, requestID string, f operation.Failure) error {
	return finishOperation(ctx, t, id, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		return failWith(ctx, tx, op, requestID, f, now)
	})
}

// failWith ends op as failed, completes its audit entry and publishes the event.
func failWith(ctx context.Context, tx Tx, op *operation.Operation, requestID string, f operation.Failure, now time.Time) error {
	if err := op.Fail(f, now); err != nil {
		return err
	}
	if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusFailed, f.Code+": "+f.Detail, now); err != nil {
		return err
	}
	return tx.Publish(ctx, &events.MemoryCreationFailed{
		Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
		Code: f.Code, Detail: f.Detail, RequestID: requestID, OccurredAt: now,
	})
}

func failureOf(err error) operation.Failure {
	var be *memory.BankError
	if errors.As(err, &be) {
		return operation.Failure{Code: "memory-bank-rejected", Detail: be.Reason}
	}
	return operation.Failure{Code: "internal", Detail: fmt.Sprint(err)}
}
