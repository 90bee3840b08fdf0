package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptDeleteMemory records a request to delete one of the caller's memories
// and queues the work.
type AcceptDeleteMemory struct {
	Acceptance
	MemoryID string
}

type AcceptDeleteMemoryHandler decorator.CommandHandler[AcceptDeleteMemory]

type acceptDeleteMemoryHandler struct {
	accepter
	registry Registry
}

func NewAcceptDeleteMemoryHandler(tx AcceptStore, sender CommandSender, registry Registry, log *slog.Logger, m *decorator.Metrics) AcceptDeleteMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptDeleteMemory](acceptDeleteMemoryHandler{accepter{tx, sender}, registry}, log, m)
}

// Handle answers a memory the caller's scope does not hold with
// errs.KindNotFound at once; otherwise it accepts the operation.
func (h acceptDeleteMemoryHandler) Handle(ctx context.Context, c AcceptDeleteMemory) error {
	if err := memory.CheckID(c.MemoryID); err != nil {
		return err
	}
	if err := mustOwn(ctx, h.registry, c.AppID, c.EndUser, c.MemoryID); err != nil {
		return err
	}
	return h.accept(ctx, c.Acceptance, func(hd events.Header) events.Command {
		return &events.DeleteMemory{Header: hd, MemoryID: c.MemoryID}
	})
}
