package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// UpdateMemory replaces the content of one memory of the caller's scope and
// finishes its operation.
type UpdateMemory struct {
	OperationID string
	AppID       string
	EndUser     string
	MemoryID    string
	Content     string
	RequestID   string
	AcceptedAt  time.Time
}

type UpdateMemoryHandler decorator.CommandHandler[UpdateMemory]

type updateMemoryHandler struct {
	runner runner
	bank   MemoryEditor
}

func NewUpdateMemoryHandler(tx Transactor, bank MemoryEditor, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) UpdateMemoryHandler {
	return decorator.ApplyCommandDecorators[UpdateMemory](updateMemoryHandler{runner: newRunner(tx, cfg), bank: bank}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). Writing the same
// content twice leaves the memory as once, so a retry after an attempt that
// updated but did not commit simply updates again. A memory that is missing, or
// another scope's, fails the operation with "memory-not-found" on any attempt:
// an earlier attempt of an update cannot have removed it.
func (h updateMemoryHandler) Handle(ctx context.Context, c UpdateMemory) error {
	j := job{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, memoryID: c.MemoryID,
		requestID: c.RequestID, acceptedAt: c.AcceptedAt,
	}
	return h.runner.run(ctx, j, func(ctx context.Context, scope memory.Scope, _ int) (succeed, error) {
		if err := h.bank.Update(ctx, scope, c.MemoryID, c.Content); err != nil {
			return nil, err
		}
		return func(op *operation.Operation, now time.Time) (any, error) {
			if err := op.Succeed([]string{c.MemoryID}, now); err != nil {
				return nil, err
			}
			return &events.MemoryUpdated{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryID: c.MemoryID, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}
