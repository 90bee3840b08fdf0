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

// DeleteMemoryHandler deletes one memory of the caller's scope and finishes
// its operation.
type DeleteMemoryHandler decorator.CommandHandler[events.DeleteMemory]

type deleteMemoryHandler struct{ worker }

func NewDeleteMemoryHandler(tx Transactor, sender CommandSender, bank MemoryEditor, registry Registry, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) DeleteMemoryHandler {
	return decorator.ApplyCommandDecorators[events.DeleteMemory](deleteMemoryHandler{newWorker(tx, sender, bank, registry, cfg)}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). The registry, not
// the Memory Bank, says whether the memory is the scope's: one it no longer
// holds (an earlier write deleted or forgot it) fails the operation with
// "memory-not-found". A registered memory the Memory Bank no longer has (an
// earlier attempt deleted it and stopped before committing) is deleted: the
// operation succeeds. Nothing of another scope is touched or revealed.
func (h deleteMemoryHandler) Handle(ctx context.Context, c events.DeleteMemory) error {
	return h.runner.run(ctx, c, func(ctx context.Context, scope memory.Scope, _ claimed) (succeed, error) {
		owned, err := h.registry.Owns(ctx, scope, c.MemoryID)
		if err != nil {
			return nil, err
		}
		if !owned {
			return nil, errMemoryGone
		}
		if err := h.editor.Delete(ctx, scope, c.MemoryID); err != nil && !isNotFound(err) {
			return nil, err
		}
		return func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (any, error) {
			if err := op.Succeed([]string{c.MemoryID}, now); err != nil {
				return nil, err
			}
			if err := tx.UnregisterMemories(ctx, op, []string{c.MemoryID}); err != nil {
				return nil, err
			}
			return &events.MemoryDeleted{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryID: c.MemoryID, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}
