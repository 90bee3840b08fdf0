package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// FailOperation ends an operation whose command, of any kind, cannot be run:
// it exhausted its retries and was parked on the poison stream, or it cannot
// even be read. The failure event is the one of the operation's kind.
type FailOperation struct {
	OperationID string
	RequestID   string
	MemoryID    string // the memory the command was about, if one: it goes into the failure event
	Reason      string
	// Undecodable says the command could not be read, rather than parked.
	Undecodable bool
}

type FailOperationHandler decorator.CommandHandler[FailOperation]

type failOperationHandler struct{ runner runner }

// NewFailOperationHandler takes the worker's configuration: ending an
// operation may claim the next write of its scope for the worker to run (see
// Turns), under the lease the worker's handlers use.
func NewFailOperationHandler(tx Transactor, sender CommandSender, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) FailOperationHandler {
	return decorator.ApplyCommandDecorators[FailOperation](failOperationHandler{runner: newRunner(tx, sender, cfg)}, log, m)
}

// Handle leaves an operation alone while another delivery of its command holds
// the lease (that one may still succeed) and asks to be retried later. Ending
// it hands the turn to the next write of its scope, as any end does.
func (h failOperationHandler) Handle(ctx context.Context, c FailOperation) error {
	f := operation.Failure{
		Code: operation.FailureRetriesExhausted, Detail: "the Memory Bank did not complete the operation after repeated attempts: " + c.Reason,
	}
	if c.Undecodable {
		f = operation.Failure{Code: operation.FailureUndecodable, Detail: "the queued command could not be read: " + c.Reason}
	}
	err := h.runner.finish(ctx, c.OperationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		if now.Before(op.LeaseUntil()) {
			return operation.ErrLeased
		}
		return failWith(ctx, tx, op, c.RequestID, c.MemoryID, f, now)
	})
	if isNotFound(err) {
		return nil // an orphan command: its operation never committed
	}
	return err
}
