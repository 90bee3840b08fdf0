package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptUpdateMemory records a request to replace the content of one of the
// caller's memories and queues the work.
type AcceptUpdateMemory struct {
	Acceptance
	MemoryID string
	Content  string
}

type AcceptUpdateMemoryHandler decorator.CommandHandler[AcceptUpdateMemory]

type acceptUpdateMemoryHandler struct {
	accepter
	registry Registry
}

func NewAcceptUpdateMemoryHandler(tx AcceptStore, sender CommandSender, registry Registry, log *slog.Logger, m *decorator.Metrics) AcceptUpdateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptUpdateMemory](acceptUpdateMemoryHandler{accepter{tx, sender}, registry}, log, m)
}

// Handle validates the content by the rules of a new memory and answers a
// memory the caller's scope does not hold with errs.KindNotFound at once; then
// it accepts the operation.
func (h acceptUpdateMemoryHandler) Handle(ctx context.Context, c AcceptUpdateMemory) error {
	if err := memory.CheckID(c.MemoryID); err != nil {
		return err
	}
	content, err := memory.NewContent(c.Content)
	if err != nil {
		return err
	}
	if err := mustOwn(ctx, h.registry, c.AppID, c.EndUser, c.MemoryID); err != nil {
		return err
	}
	return h.accept(ctx, c.Acceptance, func(hd events.Header) events.Command {
		return &events.UpdateMemory{Header: hd, MemoryID: c.MemoryID, Content: content}
	})
}
