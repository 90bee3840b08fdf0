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

// CreateMemoryHandler stores the memory of an accepted create in the Memory
// Bank and finishes its operation.
type CreateMemoryHandler decorator.CommandHandler[events.CreateMemory]

type createMemoryHandler struct {
	worker
	bank MemoryBank
}

func NewCreateMemoryHandler(tx Transactor, sender CommandSender, bank interface {
	MemoryBank
	MemoryEditor
}, registry Registry, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) CreateMemoryHandler {
	return decorator.ApplyCommandDecorators[events.CreateMemory](createMemoryHandler{newWorker(tx, sender, bank, registry, cfg), bank}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). A retry after an
// attempt that may have stored the memory asks the Memory Bank for memories
// tagged with the operation id before adding; an add the Memory Bank is still
// doing is followed, never asked for again. The operation reports every memory
// the add left (with inference on, mem0 may make none or several).
func (h createMemoryHandler) Handle(ctx context.Context, c events.CreateMemory) error {
	return h.runner.run(ctx, c, func(ctx context.Context, scope memory.Scope, cl claimed) (succeed, error) {
		forgot, err := forgotAfter(ctx, h.registry, scope, cl.seq)
		if err != nil {
			return nil, err
		}
		if forgot {
			// Accepted before a forget that ran first (a replayed dead letter):
			// storing now would bring back what the user asked to forget.
			return nil, h.withdraw(ctx, scope, c)
		}
		added, err := h.store(ctx, scope, c, cl)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx Tx, op *operation.Operation, now time.Time) (any, error) {
			note := ""
			if len(added.IDs) == 0 {
				note = operation.NoteNothingNew
			}
			if err := op.SucceedWithNote(added.IDs, note, now); err != nil {
				return nil, err
			}
			if err := tx.RegisterMemories(ctx, op, added.IDs, now); err != nil {
				return nil, err
			}
			if err := tx.UnregisterMemories(ctx, op, added.Removed); err != nil {
				return nil, err
			}
			return &events.MemoryCreated{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryIDs: op.MemoryIDs(), Note: note, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}

// forgotAfter is the registry's ForgotAfter, asked once a run (see Turns):
// no forget of the scope ends while a run of creates runs (a forget is not
// additive, and one accepted later waits for the run), so a "no" for one
// write of the run holds for those after it.
func forgotAfter(ctx context.Context, registry Registry, scope memory.Scope, seq int64) (bool, error) {
	ch, _ := ctx.Value(chainKey{}).(*chain)
	if ch != nil && ch.noForgetAfter != nil && *ch.noForgetAfter <= seq {
		return false, nil
	}
	forgot, err := registry.ForgotAfter(ctx, scope, seq)
	if err == nil && !forgot && ch != nil {
		ch.noForgetAfter = &seq
	}
	return forgot, err
}

// store adds the memory, unless an earlier attempt did; it follows an add the
// Memory Bank is still doing until it ends or the attempt has followed it long
// enough.
func (h createMemoryHandler) store(ctx context.Context, scope memory.Scope, c events.CreateMemory, cl claimed) (memory.Added, error) {
	pending := cl.bankEvent
	if pending == "" {
		if cl.attempt > 1 {
			ids, err := h.bank.FindByOperation(ctx, scope, c.OperationID, c.Draft.Content)
			if err != nil {
				return memory.Added{}, err
			}
			if len(ids) > 0 {
				return memory.Added{IDs: ids}, nil // an earlier attempt stored it but did not commit
			}
		}
		added, err := h.bank.Add(ctx, scope, c.Draft, c.OperationID)
		if err != nil || added.Pending == "" {
			return added, err
		}
		pending = added.Pending
		// Kept before following it: a later attempt follows this add rather
		// than asking for a second one.
		if err := h.runner.awaitBank(ctx, c.OperationID, cl.attempt, pending); err != nil {
			return memory.Added{}, err
		}
	}
	added, err := h.follow(ctx, scope, pending)
	if errors.Is(err, memory.ErrWorkLost) {
		h.runner.forgetBankEvent(ctx, c.OperationID)
	}
	return added, err
}

// follow polls an add the Memory Bank is still doing, for at most FollowFor.
func (h createMemoryHandler) follow(ctx context.Context, scope memory.Scope, pending string) (memory.Added, error) {
	until := time.Now().Add(h.runner.cfg.FollowFor)
	pause := 50 * time.Millisecond
	for {
		added, err := h.bank.AddStatus(ctx, scope, pending)
		if err != nil || added.Pending == "" {
			return added, err
		}
		if time.Now().Add(pause).After(until) {
			return memory.Added{}, errBankBusy
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return memory.Added{}, context.Cause(ctx)
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// withdraw ends a create that a later forget overtook: whatever an earlier
// attempt of it stored is deleted, and the operation fails as superseded.
func (h createMemoryHandler) withdraw(ctx context.Context, scope memory.Scope, c events.CreateMemory) error {
	ids, err := h.bank.FindByOperation(ctx, scope, c.OperationID, c.Draft.Content)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := h.editor.Delete(ctx, scope, id); err != nil && !isNotFound(err) {
			return err
		}
	}
	return superseded{detail: "a forget accepted after this memory was run first; the memory was not stored"}
}
