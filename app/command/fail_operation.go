package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// FailOperation ends an operation whose command, of any kind, exhausted its
// retries and was parked on the poison stream. The failure event is the one of
// the operation's kind.
type FailOperation struct {
	OperationID string
	RequestID   string
	MemoryID    string // the memory the command was about, if one: it goes into the failure event
	Reason      string
}

type FailOperationHandler decorator.CommandHandler[FailOperation]

type failOperationHandler struct{ tx Transactor }

func NewFailOperationHandler(tx Transactor, log *slog.Logger, m *decorator.Metrics) FailOperationHandler {
	return decorator.ApplyCommandDecorators[FailOperation](failOperationHandler{tx: tx}, log, m)
}

// Handle leaves an operation alone while another delivery of its command holds
// the lease (that one may still succeed) and asks to be retried later.
func (h failOperationHandler) Handle(ctx context.Context, c FailOperation) error {
	f := operation.Failure{
		Code: operation.FailureRetriesExhausted, Detail: "the Memory Bank did not complete the operation after repeated attempts: " + c.Reason,
	}
	err := finishOperation(ctx, h.tx, c.OperationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
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
