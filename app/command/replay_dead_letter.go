package command

import (
	"context"
	"fmt"
	"time"
)

// DeadLetter is a command parked on the dead-letter (poison) stream after it
// exhausted its retries; its operation was ended as failed with Reason.
type DeadLetter struct {
	ID          string    `json:"message_id"` // the stream entry's id
	Command     string    `json:"command"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	Reason      string    `json:"reason"`
	Topic       string    `json:"original_topic"`
	ParkedAt    time.Time `json:"parked_at"`
}

// DeadLetterStore is the dead-letter stream.
type DeadLetterStore interface {
	// List returns every parked command, oldest first.
	List(ctx context.Context) ([]DeadLetter, error)
	// Get returns errs.KindNotFound when no parked command has id.
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Requeue sends the parked command again on its command stream.
	Requeue(ctx context.Context, id string) error
	// Remove deletes the parked command; removing a missing one is no error.
	Remove(ctx context.Context, id string) error
}

// DeadLetterAdmin lists and replays parked commands, from the command line.
type DeadLetterAdmin struct {
	tx      Transactor
	letters DeadLetterStore
}

func NewDeadLetterAdmin(tx Transactor, letters DeadLetterStore) DeadLetterAdmin {
	return DeadLetterAdmin{tx: tx, letters: letters}
}

// List returns every parked command, oldest first.
func (h DeadLetterAdmin) List(ctx context.Context) ([]DeadLetter, error) {
	return h.letters.List(ctx)
}

// Replay reopens the operation of parked command id (failed → pending, its
// audit entry back to pending) and sends the command again, in the reopening
// transaction as acceptOperation does: if the commit fails the worker finds the
// operation still failed and drops the command, and the entry stays parked.
// The worker then finishes the operation once, with its terminal audit entry
// and event. The entry is removed after the commit; if that fails, it stays
// listed and a second replay is refused because the operation is no longer a
// parked failure. Handlers are idempotent on the operation id, so a command
// sent twice does its work once.
func (h DeadLetterAdmin) Replay(ctx context.Context, id string) (DeadLetter, error) {
	l, err := h.letters.Get(ctx, id)
	if err != nil {
		return DeadLetter{}, err
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
		if err := tx.ReopenAudit(ctx, op.ID()); err != nil {
			return err
		}
		return h.letters.Requeue(ctx, id)
	})
	if err != nil {
		return l, fmt.Errorf("replay %s (operation %s): %w", id, l.OperationID, err)
	}
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
