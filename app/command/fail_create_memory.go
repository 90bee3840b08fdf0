package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// FailCreateMemory ends an operation whose command exhausted its retries and
// was parked on the poison stream.
type FailCreateMemory struct {
	OperationID string
	RequestID   string
	Reason      string
}

type FailCreateMemoryHandler decorator.CommandHandler[FailCreateMemory]

type failCreateMemoryHandler struct{ tx Transactor }

func NewFailCreateMemoryHandler(tx Transactor, log *slog.Logger, m *decorator.Metrics) FailCreateMemoryHandler {
	return decorator.ApplyCommandDecorators[FailCreateMemory](failCreateMemoryHandler{tx: tx}, log, m)
}

// Handle leaves an operation alone while another delivery of its command holds
// the lease (that one may still succeed) and asks to be retried later.
func (h failCreateMemoryHandler) Handle(ctx context.Context, c FailCreateMemory) error {
	f := operation.Failure{
		Code: "retries-exhausted", Detail: "the Memory Bank did not accept the memory after repeated attempts: " + c.Reason,
	}
	err := finishOperation(ctx, h.tx, c.OperationID, func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) error {
		if now.Before(op.LeaseUntil()) {
			return operation.ErrLeased
		}
		return failWith(ctx, tx, op, c.RequestID, f, now)
	})
	if isNotFound(err) {
		return nil // an orphan command: its operation never committed
	}
	return err
}
