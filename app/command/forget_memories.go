package command

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// ForgetMemories deletes every memory of the caller's scope and finishes its
// operation with how many were removed.
type ForgetMemories struct {
	OperationID string
	AppID       string
	EndUser     string
	RequestID   string
	AcceptedAt  time.Time
}

type ForgetMemoriesHandler decorator.CommandHandler[ForgetMemories]

type forgetMemoriesHandler struct {
	runner   runner
	bank     MemoryEditor
	registry Registry
}

func NewForgetMemoriesHandler(tx Transactor, sender CommandSender, bank MemoryEditor, registry Registry, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) ForgetMemoriesHandler {
	return decorator.ApplyCommandDecorators[ForgetMemories](forgetMemoriesHandler{
		runner: newRunner(tx, sender, cfg), bank: bank, registry: registry,
	}, log, m)
}

// forgetRounds bounds how many times one attempt looks at what the Memory Bank
// still holds and deletes it; an attempt that runs out leaves the operation
// pending for the next one.
const forgetRounds = 20

// errStillHeld marks a forget attempt that ran out of rounds with memories left.
var errStillHeld = &memory.BankError{Transient: true, Reason: "the Memory Bank still holds memories of the scope"}

// Handle succeeds only when the Memory Bank holds nothing more of the scope.
// It asks for everything at once where the key may (mem0's open-source server
// keeps that to its admin key), deletes by id what the registry knows and
// whatever mem0 still lists, and looks again until mem0 lists nothing: older
// servers delete at most 100 per call and answer success, the platform deletes
// in the background. removed is the number of memories of the scope that
// existed and are gone: the registry's, and any mem0 listed that it did not
// know. A retry after a crash counts the same, as the registry is only
// changed by the commit that ends the operation.
//
// A forget that comes to run after later writes of its scope have started (a
// replayed dead letter) deletes only what was stored before it was accepted,
// by id: it never removes what a later write stored.
func (h forgetMemoriesHandler) Handle(ctx context.Context, c ForgetMemories) error {
	j := job{operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID, acceptedAt: c.AcceptedAt}
	return h.runner.run(ctx, j, func(ctx context.Context, scope memory.Scope, cl claimed) (succeed, error) {
		removed, err := h.forget(ctx, scope, cl.seq)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (any, error) {
			if err := op.SucceedRemoved(removed, now); err != nil {
				return nil, err
			}
			if err := tx.ForgetScope(ctx, op); err != nil {
				return nil, err
			}
			return &events.MemoriesForgotten{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				Removed: removed, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}

func (h forgetMemoriesHandler) forget(ctx context.Context, scope memory.Scope, seq int64) (int, error) {
	registered, err := h.registry.RegisteredBefore(ctx, scope, seq)
	if err != nil {
		return 0, err
	}
	gone := make(map[string]bool, len(registered))
	for _, id := range registered {
		gone[id] = true
	}
	late, err := h.registry.LaterWritesStarted(ctx, scope, seq)
	if err != nil {
		return 0, err
	}
	byID := late
	async := false
	if !late {
		// What mem0 lists now counts too, though the registry does not know it
		// (stored before the registry existed, or outside the service).
		before, err := h.bank.Held(ctx, scope)
		if err != nil {
			return 0, err
		}
		for _, r := range before {
			gone[r.ID] = true
		}
		async, err = h.bank.DeleteAll(ctx, scope)
		var be *memory.BankError
		switch {
		case err == nil:
		case errors.As(err, &be) && !be.Transient:
			byID = true // not allowed with this key: delete one by one
		default:
			return 0, err
		}
	}
	if byID {
		for _, id := range registered {
			if err := h.delete(ctx, scope, id); err != nil {
				return 0, err
			}
		}
	}
	for round := 0; ; round++ {
		held, err := h.held(ctx, scope, seq, late)
		if err != nil {
			return 0, err
		}
		if len(held) == 0 {
			return len(gone), nil
		}
		if round == forgetRounds {
			return 0, errStillHeld
		}
		if async && round < forgetRounds/2 {
			// The platform deletes in the background: give it a moment first.
			if err := pause(ctx, 200*time.Millisecond); err != nil {
				return 0, err
			}
			continue
		}
		for _, r := range held {
			if err := h.delete(ctx, scope, r.ID); err != nil {
				return 0, err
			}
			gone[r.ID] = true
		}
	}
}

// held is what the Memory Bank still holds of the scope that this forget must
// remove: all of it, or, for a late forget, what no later write stored.
func (h forgetMemoriesHandler) held(ctx context.Context, scope memory.Scope, seq int64, late bool) ([]memory.Record, error) {
	held, err := h.bank.Held(ctx, scope)
	if err != nil || !late || len(held) == 0 {
		return held, err
	}
	var ops []string
	for _, r := range held {
		if op := r.OperationID(); op != "" {
			ops = append(ops, op)
		}
	}
	later, err := h.registry.LaterOperations(ctx, scope, seq, ops)
	if err != nil {
		return nil, err
	}
	out := held[:0]
	for _, r := range held {
		if !later[r.OperationID()] {
			out = append(out, r)
		}
	}
	return out, nil
}

// delete removes one memory; one already gone is fine.
func (h forgetMemoriesHandler) delete(ctx context.Context, scope memory.Scope, id string) error {
	if err := h.bank.Delete(ctx, scope, id); err != nil && !isNotFound(err) {
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
