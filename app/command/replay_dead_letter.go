package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// ReplayDeadLetter sends a parked command again.
type ReplayDeadLetter struct{ MessageID string }

// ReplayDeadLetterHandler answers with the letter it replayed.
type ReplayDeadLetterHandler decorator.QueryHandler[ReplayDeadLetter, DeadLetter]

type replayDeadLetterHandler struct {
	tx      Transactor
	letters DeadLetterStore
	sender  CommandSender
}

func NewReplayDeadLetterHandler(tx Transactor, letters DeadLetterStore, sender CommandSender, log *slog.Logger, m *decorator.Metrics) ReplayDeadLetterHandler {
	return decorator.ApplyQueryDecorators[ReplayDeadLetter, DeadLetter](replayDeadLetterHandler{tx: tx, letters: letters, sender: sender}, log, m)
}

// Handle reopens the operation of the parked command (failed → pending, its
// audit entry back to pending, the command kept in its row again) in one
// transaction, then sends the command and removes the entry. A send lost
// after the commit is sent again by ResendLostCommands from the kept copy; an
// entry that cannot be removed stays listed, and a second replay is refused
// because the operation is no longer a parked failure. The worker then
// finishes the operation once, with its terminal audit entry and event, in its
// scope's order; a write replayed after later writes of its scope took effect
// cannot undo them (see the command handlers).
func (h replayDeadLetterHandler) Handle(ctx context.Context, c ReplayDeadLetter) (DeadLetter, error) {
	id := c.MessageID
	l, err := h.letters.Get(ctx, id)
	if err != nil {
		return DeadLetter{}, err
	}
	cmd, ok := events.NewCommand(l.Command)
	if !ok {
		return l, fmt.Errorf("replay %s: no command named %q", id, l.Command)
	}
	if err := json.Unmarshal(l.Payload, cmd); err != nil {
		return l, fmt.Errorf("replay %s: the parked %s cannot be read: %w", id, l.Command, err)
	}
	err = h.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, l.OperationID)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if err := op.Reopen(now); err != nil {
			return err
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return err
		}
		if err := tx.KeepCommand(ctx, op, cmd); err != nil {
			return err
		}
		return tx.ReopenAudit(ctx, op.ID())
	})
	if err != nil {
		return l, fmt.Errorf("replay %s (operation %s): %w", id, l.OperationID, err)
	}
	sendCtx := ctx
	if l.CorrelationID != "" {
		sendCtx = events.WithCorrelationID(ctx, l.CorrelationID)
	}
	_ = h.sender.Send(sendCtx, cmd)
	if err := h.letters.Remove(ctx, id); err != nil {
		return l, fmt.Errorf("replayed %s but could not remove it from the dead letters: %w", id, err)
	}
	return l, nil
}
