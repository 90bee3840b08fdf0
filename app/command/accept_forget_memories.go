package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptForgetMemories records a request to delete every memory of the
// caller's scope and queues the work.
type AcceptForgetMemories struct{ Acceptance }

type AcceptForgetMemoriesHandler decorator.CommandHandler[AcceptForgetMemories]

type acceptForgetMemoriesHandler struct{ accepter }

func NewAcceptForgetMemoriesHandler(tx AcceptStore, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptForgetMemoriesHandler {
	return decorator.ApplyCommandDecorators[AcceptForgetMemories](acceptForgetMemoriesHandler{accepter{tx, sender}}, log, m)
}

// Handle accepts the operation. The scope is the caller's: nothing in the
// command can widen it.
func (h acceptForgetMemoriesHandler) Handle(ctx context.Context, c AcceptForgetMemories) error {
	return h.accept(ctx, c.Acceptance, func(hd events.Header) events.Command {
		return &events.ForgetMemories{Header: hd}
	})
}
