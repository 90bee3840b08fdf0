package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

// DropDeadLetter deletes a parked command without replaying it, e.g. one
// whose operation never existed (an orphan) or one nobody wants done any
// more; its operation stays failed.
type DropDeadLetter struct{ MessageID string }

// DropDeadLetterHandler answers with the letter it dropped.
type DropDeadLetterHandler decorator.QueryHandler[DropDeadLetter, DeadLetter]

type dropDeadLetterHandler struct{ letters DeadLetterStore }

func NewDropDeadLetterHandler(letters DeadLetterStore, log *slog.Logger, m *decorator.Metrics) DropDeadLetterHandler {
	return decorator.ApplyQueryDecorators[DropDeadLetter, DeadLetter](dropDeadLetterHandler{letters: letters}, log, m)
}

func (h dropDeadLetterHandler) Handle(ctx context.Context, c DropDeadLetter) (DeadLetter, error) {
	l, err := h.letters.Get(ctx, c.MessageID)
	if err != nil {
		return DeadLetter{}, err
	}
	return l, h.letters.Remove(ctx, c.MessageID)
}
