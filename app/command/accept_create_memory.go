package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptCreateMemory records a request to store a memory and queues the work.
type AcceptCreateMemory struct {
	Acceptance
	Content        string
	Metadata       map[string]any
	ConversationID string
}

type AcceptCreateMemoryHandler decorator.CommandHandler[AcceptCreateMemory]

type acceptCreateMemoryHandler struct{ accepter }

func NewAcceptCreateMemoryHandler(tx AcceptStore, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptCreateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptCreateMemory](acceptCreateMemoryHandler{accepter{tx, sender}}, log, m)
}

// Handle validates the memory once, here: the command carries the draft
// from here to the Memory Bank. Then it accepts the operation.
func (h acceptCreateMemoryHandler) Handle(ctx context.Context, c AcceptCreateMemory) error {
	draft, err := memory.NewDraft(c.Content, c.Metadata, c.ConversationID)
	if err != nil {
		return err
	}
	return h.accept(ctx, c.Acceptance, func(hd events.Header) events.Command {
		return &events.CreateMemory{Header: hd, Draft: draft}
	})
}
