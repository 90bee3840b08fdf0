package command

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// ForgetMemoriesHandler deletes every memory of the caller's scope and
// finishes its operation with how many were removed.
type ForgetMemoriesHandler decorator.CommandHandler[events.ForgetMemories]

type forgetMemoriesHandler struct{ worker }

func NewForgetMemoriesHandler(tx Transactor, sender CommandSender, bank MemoryEditor, registry Registry, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) ForgetMemoriesHandler {
	return decorator.ApplyCommandDecorators[events.ForgetMemories](forgetMemoriesHandler{newWorker(tx, sender, bank, registry, cfg)}, log, m)
}

// forgetRounds bounds how many times one attempt looks at what the Memory Bank
// still holds; each round deletes what it lists (up to 1000). An attempt
// that runs out, or that sees a round delete nothing, leaves the operation
// pending for the next attempt, which goes on where it stopped.
const forgetRounds = 1000

// asyncPauses is how many rounds a forget waits, 200ms each, for the
// platform's background delete-all before it deletes by id itself.
const asyncPauses = 25

// errStillHeld marks a forget attempt that stopped with memories left.
var errStillHeld = &memory.BankError{Transient: true, Reason: "the Memory Bank still holds memories of the scope"}

// Handle succeeds only when the Memory Bank holds nothing more of the scope.
// It asks for everything at once where the key may (mem0's open-source server
// keeps that to its admin key) and when it has seen every memory first,
// deletes by id otherwise, and looks again until mem0 lists nothing: older
// servers delete at most 100 per call and answer success, the platform deletes
// in the background. A memory mem0 lists that the registry does not know
// (stored before it existed, or outside the service) is registered to the
// forget before it is deleted, so removed, counted from the registry when the
// operation ends, is the true count whichever attempt ends it.
//
// A forget that comes to run after later writes of its scope have started (a
// replayed dead letter) deletes by id only what was stored before it was
// accepted: it never removes what a later write stored.
func (h forgetMemoriesHandler) Handle(ctx context.Context, c events.ForgetMemories) error {
	return h.runner.run(ctx, c, func(ctx context.Context, scope memory.Scope, cl claimed) (succeed, error) {
		if err := h.forget(ctx, scope, c.OperationID, cl); err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (any, error) {
			removed, err := tx.ForgetScope(ctx, op)
			if err != nil {
				return nil, err
			}
			if err := op.SucceedRemoved(removed, now); err != nil {
				return nil, err
			}
			return &events.MemoriesForgotten{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				Removed: removed, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}

func (h forgetMemoriesHandler) forget(ctx context.Context, scope memory.Scope, opID string, cl claimed) error {
	// Stored before the forget, or found by an earlier attempt of it.
	registered, err := h.registry.RegisteredBefore(ctx, scope, cl.seq+1)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(registered))
	for _, id := range registered {
		known[id] = true
	}
	late, err := h.registry.LaterWritesStarted(ctx, scope, cl.seq)
	if err != nil {
		return err
	}
	held, complete, err := h.held(ctx, scope, cl.seq, late)
	if err != nil {
		return err
	}
	if err := h.adopt(ctx, opID, cl, held, known); err != nil {
		return err
	}
	byID, async := true, false
	if !late && complete {
		// Every memory is seen and registered: one call may delete them all.
		async, err = h.editor.DeleteAll(ctx, scope)
		var be *memory.BankError
		switch {
		case err == nil:
			byID = false
		case errors.As(err, &be) && !be.Transient:
			// Not allowed with this key: delete one by one.
		default:
			return err
		}
	}
	if byID {
		for _, id := range registered {
			if err := h.delete(ctx, scope, id); err != nil {
				return err
			}
		}
	}
	var last map[string]bool
	for round := 0; ; round++ {
		held, _, err := h.held(ctx, scope, cl.seq, late)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return nil
		}
		if err := h.adopt(ctx, opID, cl, held, known); err != nil {
			return err
		}
		if async && round < asyncPauses {
			// The platform deletes in the background: give it a moment first.
			if err := pause(ctx, 200*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		now := make(map[string]bool, len(held))
		for _, r := range held {
			now[r.ID] = true
		}
		if round == forgetRounds || maps.Equal(now, last) {
			return errStillHeld // nothing went since the last round: try again later
		}
		last = now
		for _, r := range held {
			if err := h.delete(ctx, scope, r.ID); err != nil {
				return err
			}
		}
	}
}

// held is what the Memory Bank still holds of the scope that this forget must
// remove: all of it, or, for a late forget, what no later write stored.
func (h forgetMemoriesHandler) held(ctx context.Context, scope memory.Scope, seq int64, late bool) ([]memory.Record, bool, error) {
	held, complete, err := h.editor.Held(ctx, scope)
	if err != nil || !late || len(held) == 0 {
		return held, complete, err
	}
	var ops []string
	for _, r := range held {
		if op := r.OperationID(); op != "" {
			ops = append(ops, op)
		}
	}
	later, err := h.registry.LaterOperations(ctx, scope, seq, ops)
	if err != nil {
		return nil, false, err
	}
	out := held[:0]
	for _, r := range held {
		if !later[r.OperationID()] {
			out = append(out, r)
		}
	}
	return out, complete, nil
}

// adopt registers to the forget the memories it found that the registry does
// not know, before they are deleted, so that they are counted.
func (h forgetMemoriesHandler) adopt(ctx context.Context, opID string, cl claimed, held []memory.Record, known map[string]bool) error {
	var found []string
	for _, r := range held {
		if !known[r.ID] {
			found = append(found, r.ID)
		}
	}
	if len(found) == 0 {
		return nil
	}
	err := h.runner.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		op, err := tx.LockOperation(ctx, opID)
		if err != nil {
			return err
		}
		if op.IsTerminal() || op.Attempts() != cl.attempt {
			return operation.ErrLeaseLost
		}
		return tx.RegisterMemories(ctx, op, found, time.Now().UTC())
	})
	if err != nil {
		return err
	}
	for _, id := range found {
		known[id] = true
	}
	return nil
}

// delete removes one memory; one already gone is fine.
func (h forgetMemoriesHandler) delete(ctx context.Context, scope memory.Scope, id string) error {
	if err := h.editor.Delete(ctx, scope, id); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
