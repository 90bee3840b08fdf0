package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

// ReplayAllDeadLetters replays every parked command, going on past failures.
type ReplayAllDeadLetters struct{}

// Replayed is the outcome of replaying one parked command.
type Replayed struct {
	Letter DeadLetter
	Err    error
}

// ReplayAllDeadLettersHandler answers with each letter's outcome, and an
// error only when it could not go through them all.
type ReplayAllDeadLettersHandler decorator.QueryHandler[ReplayAllDeadLetters, []Replayed]

type replayAllDeadLettersHandler struct {
	letters DeadLetterStore
	replay  ReplayDeadLetterHandler
}

func NewReplayAllDeadLettersHandler(letters DeadLetterStore, replay ReplayDeadLetterHandler, log *slog.Logger, m *decorator.Metrics) ReplayAllDeadLettersHandler {
	return decorator.ApplyQueryDecorators[ReplayAllDeadLetters, []Replayed](replayAllDeadLettersHandler{letters: letters, replay: replay}, log, m)
}

func (h replayAllDeadLettersHandler) Handle(ctx context.Context, _ ReplayAllDeadLetters) ([]Replayed, error) {
	letters, err := h.letters.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Replayed, 0, len(letters))
	for _, l := range letters {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		_, err := h.replay.Handle(ctx, ReplayDeadLetter{MessageID: l.ID})
		out = append(out, Replayed{Letter: l, Err: err})
	}
	return out, nil
}
