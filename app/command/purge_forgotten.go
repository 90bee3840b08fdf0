package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

// PurgeForgotten removes the text of forgotten memories from where the
// service still keeps a copy outside the Memory Bank once a forget (MemoryID
// empty: the whole scope) or a delete (one memory) has succeeded: the dead
// letters, whose parked commands carry contents. (Cached Idempotency-Key
// responses go in the forget's own transaction, and acknowledged commands
// are trimmed from their streams.)
type PurgeForgotten struct {
	AppID    string
	EndUser  string
	MemoryID string
}

type PurgeForgottenHandler decorator.CommandHandler[PurgeForgotten]

type purgeForgottenHandler struct{ letters DeadLetterStore }

func NewPurgeForgottenHandler(letters DeadLetterStore, log *slog.Logger, m *decorator.Metrics) PurgeForgottenHandler {
	return decorator.ApplyCommandDecorators[PurgeForgotten](purgeForgottenHandler{letters: letters}, log, m)
}

// Handle removes every dead letter of the scope, or of its one memory. The
// operations of the removed letters stay failed and can no longer be
// replayed: replaying them would bring the forgotten text back. Running it
// twice is harmless.
func (h purgeForgottenHandler) Handle(ctx context.Context, c PurgeForgotten) error {
	letters, err := h.letters.List(ctx)
	if err != nil {
		return fmt.Errorf("list dead letters: %w", err)
	}
	for _, l := range letters {
		if l.AppID != c.AppID || l.EndUser != c.EndUser || (c.MemoryID != "" && l.MemoryID != c.MemoryID) {
			continue
		}
		if err := h.letters.Remove(ctx, l.ID); err != nil {
			return fmt.Errorf("remove dead letter %s: %w", l.ID, err)
		}
	}
	return nil
}
