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

// ForgetMemories deletes every memory of the caller's scope and finishes its
// operation with how many were removed.
type ForgetMemories struct {
	OperationID string
	AppID       string
	EndUser     string
	RequestID   string
	AcceptedAt  time.Time
}

type ForgetMemoriesHandler decorator.CommandHandler[ForgetMemories]

type forgetMemoriesHandler struct {
	runner runner
	bank   MemoryEditor
}

func NewForgetMemoriesHandler(tx Transactor, bank MemoryEditor, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) ForgetMemoriesHandler {
	return decorator.ApplyCommandDecorators[ForgetMemories](forgetMemoriesHandler{runner: newRunner(tx, cfg), bank: bank}, log, m)
}

// Handle is idempotent on the operation id (see runner.run): forgetting an empty
// scope succeeds, so a retry after an attempt that deleted but did not commit
// finishes the operation. Its count is then what that retry found, fewer than the
// first attempt removed: the count is not known durably until the commit.
func (h forgetMemoriesHandler) Handle(ctx context.Context, c ForgetMemories) error {
	j := job{operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID, acceptedAt: c.AcceptedAt}
	return h.runner.run(ctx, j, func(ctx context.Context, scope memory.Scope, _ int) (succeed, error) {
		removed, err := h.bank.DeleteAll(ctx, scope)
		if err != nil {
			return nil, err
		}
		return func(op *operation.Operation, now time.Time) (any, error) {
			if err := op.SucceedRemoved(removed, now); err != nil {
				return nil, err
			}
			return &events.MemoriesForgotten{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				Removed: removed, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}
