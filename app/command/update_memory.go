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

// UpdateMemoryHandler replaces the content of one memory of the caller's
// scope and finishes its operation.
type UpdateMemoryHandler decorator.CommandHandler[events.UpdateMemory]

type updateMemoryHandler struct{ worker }

func NewUpdateMemoryHandler(tx Transactor, sender CommandSender, bank MemoryEditor, registry Registry, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) UpdateMemoryHandler {
	return decorator.ApplyCommandDecorators[events.UpdateMemory](updateMemoryHandler{newWorker(tx, sender, bank, registry, cfg)}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). Writing the same
// content twice leaves the memory as once, so a retry after an attempt that
// updated but did not commit simply updates again. A memory the scope no longer
// holds (an earlier write deleted or forgot it) fails the operation with
// "memory-not-found"; one that a later update already rewrote (this one was
// replayed from the dead letters) fails it as superseded, so the older content
// never overwrites the newer.
func (h updateMemoryHandler) Handle(ctx context.Context, c events.UpdateMemory) error {
	return h.runner.run(ctx, c, func(ctx context.Context, scope memory.Scope, cl claimed) (succeed, error) {
		last, ok, err := h.registry.LastWrite(ctx, scope, c.MemoryID)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return nil, errMemoryGone
		case last > cl.seq:
			return nil, superseded{detail: "a later update of this memory was applied first; this older one was not"}
		}
		if err := h.editor.Update(ctx, scope, c.MemoryID, c.Content); err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (any, error) {
			if err := op.Succeed([]string{c.MemoryID}, now); err != nil {
				return nil, err
			}
			if err := tx.RewroteMemory(ctx, op, c.MemoryID); err != nil {
				return nil, err
			}
			return &events.MemoryUpdated{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryID: c.MemoryID, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}
