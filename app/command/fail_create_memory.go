package command

import (
	"context"
	"log/slog"

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

func (h failCreateMemoryHandler) Handle(ctx context.Context, c FailCreateMemory) error {
	err := failOperation(ctx, h.tx, c.OperationID, c.RequestID, operation.Failure{
		Code: "retries-exhausted", Detail: "the Memory Bank did not accept the memory after repeated attempts: " + c.Reason,
	})
	if isNotFound(err) {
		return nil // an orphan command: its operation never committed
	}
	return err
}
