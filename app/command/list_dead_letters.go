package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

// ListDeadLetters lists every parked command, oldest first. It is a query,
// kept beside the commands that replay and drop what it lists.
type ListDeadLetters struct{}

type ListDeadLettersHandler decorator.QueryHandler[ListDeadLetters, []DeadLetter]

type listDeadLettersHandler struct{ letters DeadLetterStore }

func NewListDeadLettersHandler(letters DeadLetterStore, log *slog.Logger, m *decorator.Metrics) ListDeadLettersHandler {
	return decorator.ApplyQueryDecorators[ListDeadLetters, []DeadLetter](listDeadLettersHandler{letters: letters}, log, m)
}

func (h listDeadLettersHandler) Handle(ctx context.Context, _ ListDeadLetters) ([]DeadLetter, error) {
	return h.letters.List(ctx)
}
