package command_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// requireDeleted checks a succeeded delete: the operation names the memory, and
// one MemoryDeleted agrees with it.
func requireDeleted(t *testing.T, db *fakeDB, c events.DeleteMemory) {
	t.Helper()
	op, ev := requireFinished(t, db, c.OperationID, operation.StatusSucceeded)
	if !slices.Equal(op.MemoryIDs(), []string{c.MemoryID}) {
		t.Errorf("operation memory ids = %v, want [%s]", op.MemoryIDs(), c.MemoryID)
	}
	deleted, ok := ev.(*events.MemoryDeleted)
	if !ok {
		t.Fatalf("published %T, want *events.MemoryDeleted", ev)
	}
	if deleted.Version != events.Version || deleted.OperationID != c.OperationID || deleted.AppID != c.AppID ||
		deleted.EndUser != c.EndUser || deleted.MemoryID != c.MemoryID || deleted.RequestID != c.RequestID || deleted.OccurredAt.IsZero() {
		t.Errorf("MemoryDeleted = %+v", deleted)
	}
}

func TestDeleteMemory_success(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "user-1")
	id := own(db, bank, scope, "likes green tea")
	kept := own(db, bank, scope, "likes hiking")
	c := acceptDelete(t, db, "op-1", "app-1", "user-1", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if _, ok := bank.content(id); ok {
		t.Error("the memory still exists")
	}
	if _, ok := bank.content(kept); !ok {
		t.Error("another memory of the scope was deleted too")
	}
	if s := bank.lastScopeOf("delete"); s != scope {
		t.Errorf("Delete scope = %+v, want %+v", s, scope)
	}
	requireDeleted(t, db, c)
}

func TestDeleteMemory_notFoundOnTheFirstAttemptFailsTheOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := acceptDelete(t, db, "op-1", "app-1", "user-1", "mem-404")
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	ev := requireFailedWith(t, db, "op-1", "memory-not-found")
	failed, ok := ev.(*events.MemoryDeletionFailed)
	if !ok {
		t.Fatalf("published %T, want *events.MemoryDeletionFailed", ev)
	}
	if failed.Version != events.Version || failed.OperationID != "op-1" || failed.AppID != "app-1" || failed.EndUser != "user-1" ||
		failed.MemoryID != "mem-404" || failed.Code != "memory-not-found" || failed.RequestID != c.RequestID {
		t.Errorf("MemoryDeletionFailed = %+v", failed)
	}
}

func TestDeleteMemory_otherScopesAreOutOfReach(t *testing.T) {
	t.Parallel()

	for _, tt := range foreignScopes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			id := own(db, bank, mustScope(t, tt.owner[0], tt.owner[1]), "not yours")
			c := acceptDelete(t, db, "op-1", tt.caller[0], tt.caller[1], id)
			h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

			if err := h.Handle(context.Background(), c); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if _, ok := bank.content(id); !ok {
				t.Error("the other scope's memory was deleted")
			}
			requireFailedWith(t, db, "op-1", "memory-not-found")
		})
	}
}

// Another scope's memory is out of reach before any call: the registry says
// the caller's scope does not hold it, so no retry can ever touch it.
func TestDeleteMemory_anotherScopesMemoryIsNeverCalledFor(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-2", ""), "not yours")
	c := acceptDelete(t, db, "op-1", "app-1", "", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	for range 2 {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	if _, ok := bank.content(id); !ok {
		t.Error("the other scope's memory was deleted")
	}
	if n := bank.callCount("delete"); n != 0 {
		t.Errorf("Delete called %d times on another scope's memory", n)
	}
	requireFailedWith(t, db, "op-1", "memory-not-found")
}

func TestDeleteMemory_redeliveryAfterSuccessIsAcknowledged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	c := acceptDelete(t, db, "op-1", "app-1", "", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	for i := range 2 {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if n := bank.callCount("delete"); n != 1 {
		t.Errorf("Delete called %d times, want 1", n)
	}
	requireDeleted(t, db, c)
}

// The worker deletes the memory, then dies before the completion commits. The
// redelivery finds the memory gone: that is the delete it was asked for.
func TestDeleteMemory_crashAfterBankCallBeforeCommit(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", "user-1"), "v1")
	c := acceptDelete(t, db, "op-1", "app-1", "user-1", id)
	refuseFirstCompletion(db)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Millisecond}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, errCommit) {
		t.Fatalf("first Handle = %v, want the commit failure", err)
	}
	if _, ok := bank.content(id); ok {
		t.Fatal("the first attempt did not delete")
	}
	requirePendingLeased(t, db, "op-1")

	if err := redeliverUntilClaimed(t, func() error { return h.Handle(context.Background(), c) }); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := bank.callCount("delete"); n != 2 {
		t.Errorf("Delete called %d times, want 2", n)
	}
	requireDeleted(t, db, c)
	if got := db.operation("op-1").Attempts(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

// The Memory Bank deletes but the answer is lost (a timeout): the retry finds the
// memory gone and succeeds.
func TestDeleteMemory_answerLostAfterTheDelete(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	timeout := &memory.BankError{Transient: true, Reason: "timeout"}
	bank.failAfter("delete", timeout)
	c := acceptDelete(t, db, "op-1", "app-1", "", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, timeout) {
		t.Fatalf("first Handle = %v, want the timeout", err)
	}
	requirePending(t, db, "op-1", 1)
	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("retry: %v", err)
	}
	requireDeleted(t, db, c)
}

func TestDeleteMemory_transientErrorLeavesTheOperationPending(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	down := &memory.BankError{Transient: true, StatusCode: 503, Reason: "unavailable"}
	bank.failNext("delete", down, down)
	c := acceptDelete(t, db, "op-1", "app-1", "", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

	for attempt := 1; attempt <= 2; attempt++ {
		if err := h.Handle(context.Background(), c); !errors.Is(err, down) {
			t.Fatalf("attempt %d = %v, want the transient error", attempt, err)
		}
		requirePending(t, db, "op-1", attempt)
	}
	if _, ok := bank.content(id); !ok {
		t.Fatal("memory deleted despite the errors")
	}
	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	requireDeleted(t, db, c)
}

func TestDeleteMemory_permanentBankErrorFailsTheOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	bank.failNext("delete", &memory.BankError{StatusCode: 403, Reason: "forbidden"})
	c := acceptDelete(t, db, "op-1", "app-1", "", id)
	h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	ev := requireFailedWith(t, db, "op-1", "memory-bank-rejected")
	if failed, ok := ev.(*events.MemoryDeletionFailed); !ok || failed.Detail != "forbidden" || failed.MemoryID != id {
		t.Errorf("event = %+v, want MemoryDeletionFailed with the reason", ev)
	}
}
