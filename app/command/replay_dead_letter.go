package command

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// DeadLetter is a command parked on the dead-letter (poison) stream after it
// exhausted its retries; its operation was ended as failed with Reason.
type DeadLetter struct {
	ID          string    `json:"message_id"` // the stream entry's id
	Command     string    `json:"command"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id,omitempty"` // the memory an update or delete was for
	Reason      string    `json:"reason"`
	Topic       string    `json:"original_topic"`
	ParkedAt    time.Time `json:"parked_at"`
	// CorrelationID is the request the command came from.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Payload is the command as it was parked.
	Payload json.RawMessage `json:"-"`
}

// DeadLetterStore is the dead-letter stream.
type DeadLetterStore interface {
	// List returns every parked command, oldest first.
	List(ctx context.Context) ([]DeadLetter, error)
	// Get returns errs.KindNotFound when no parked command has id.
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Remove deletes the parked command; removing a missing one is no error.
	Remove(ctx context.Context, id string) error
}

// DeadLetterAdmin lists and replays parked commands, from the command line.
type DeadLetterAdmin struct {
	tx      Transactor
	letters DeadLetterStore
	sender  CommandSender
}

func NewDeadLetterAdmin(tx Transactor, letters DeadLetterStore, sender CommandSender) DeadLetterAdmin {
	return DeadLetterAdmin{tx: tx, letters: letters, sender: sender}
}

// List returns every parked command, oldest first.
func (h DeadLetterAdmin) List(ctx context.Context) ([]DeadLetter, error) {
	return h.letters.List(ctx)
}

// Replay reopens the operation of parked command id (failed → pending, its
// audit entry back to pending, the command kept in its row again) in one
// transaction, then sends the command and removes the entry. A send lost
// after the commit is sent again by LostCommands from the kept copy; an entry
// that cannot be removed stays listed, and a second replay is refused because
// the operation is no longer a parked failure. The worker then finishes the
// operation once, with its terminal audit entry and event, in its scope's
// order; a write replayed after later writes of its scope took effect cannot
// undo them (see the command handlers).
func (h DeadLetterAdmin) Replay(ctx context.Context, id string) (DeadLetter, error) {
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

// Drop deletes parked command id without replaying it, e.g. one whose
// operation never existed (an orphan) or one nobody wants done any more; its
// operation stays failed.
func (h DeadLetterAdmin) Drop(ctx context.Context, id string) (DeadLetter, error) {
	l, err := h.letters.Get(ctx, id)
	if err != nil {
		return DeadLetter{}, err
	}
	return l, h.letters.Remove(ctx, id)
}

// Replayed is the outcome of replaying one parked command.
type Replayed struct {
	Letter DeadLetter
	Err    error
}

// ReplayAll replays every parked command, going on past failures.
func (h DeadLetterAdmin) ReplayAll(ctx context.Context) ([]Replayed, error) {
	letters, err := h.letters.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Replayed, 0, len(letters))
	for _, l := range letters {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		_, err := h.Replay(ctx, l.ID)
		out = append(out, Replayed{Letter: l, Err: err})
	}
	return out, nil
}
