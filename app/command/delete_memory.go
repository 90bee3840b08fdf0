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

// DeleteMemory deletes one memory of the caller's scope and finishes its operation.
type DeleteMemory struct {
	OperationID string
	AppID       string
	EndUser     string
	MemoryID    string
	RequestID   string
	AcceptedAt  time.Time
}

type DeleteMemoryHandler decorator.CommandHandler[DeleteMemory]

type deleteMemoryHandler struct {
	runner runner
	bank   MemoryEditor
}

func NewDeleteMemoryHandler(tx Transactor, bank MemoryEditor, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) DeleteMemoryHandler {
	return decorator.ApplyCommandDecorators[DeleteMemory](deleteMemoryHandler{runner: newRunner(tx, cfg), bank: bank}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). On the first attempt
// a memory that is missing, or another scope's, fails the operation with
// "memory-not-found". On a later attempt an earlier one may have deleted it and
// stopped before committing, so a missing memory counts as deleted. (That retry
// cannot tell "deleted by us" from "never there": a first attempt that failed
// before reaching the Memory Bank makes a missing memory a success too. Nothing
// of another scope is touched or revealed either way.)
func (h deleteMemoryHandler) Handle(ctx context.Context, c DeleteMemory) error {
	j := job{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, memoryID: c.MemoryID,
		requestID: c.RequestID, acceptedAt: c.AcceptedAt,
	}
	return h.runner.run(ctx, j, func(ctx context.Context, scope memory.Scope, attempt int) (succeed, error) {
		err := h.bank.Delete(ctx, scope, c.MemoryID)
		if err != nil && !(attempt > 1 && isNotFound(err)) {
			return nil, err
		}
		return func(op *operation.Operation, now time.Time) (any, error) {
			if err := op.Succeed([]string{c.MemoryID}, now); err != nil {
				return nil, err
			}
			return &events.MemoryDeleted{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryID: c.MemoryID, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}
