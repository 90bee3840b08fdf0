package command_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// requireForgotten checks a succeeded forget: the operation and one
// MemoriesForgotten agree on how many were removed.
func requireForgotten(t *testing.T, db *fakeDB, c events.ForgetMemories, removed int) {
	t.Helper()
	op, ev := requireFinished(t, db, c.OperationID, operation.StatusSucceeded)
	if op.Removed() != removed || len(op.MemoryIDs()) != 0 {
		t.Errorf("operation removed %d, ids %v; want %d, none", op.Removed(), op.MemoryIDs(), removed)
	}
	forgotten, ok := ev.(*events.MemoriesForgotten)
	if !ok {
		t.Fatalf("published %T, want *events.MemoriesForgotten", ev)
	}
	if forgotten.Version != events.Version || forgotten.OperationID != c.OperationID || forgotten.AppID != c.AppID ||
		forgotten.EndUser != c.EndUser || forgotten.Removed != removed || forgotten.RequestID != c.RequestID || forgotten.OccurredAt.IsZero() {
		t.Errorf("MemoriesForgotten = %+v", forgotten)
	}
}

// Forgetting empties the caller's scope, and only it: the application's own
// memories, another end user's, and another application's are all kept.
func TestForgetMemories_removesTheCallersScopeOnly(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	caller := mustScope(t, "app-1", "user-1")
	for range 3 {
		own(db, bank, caller, "mine")
	}
	others := []memory.Scope{mustScope(t, "app-1", ""), mustScope(t, "app-1", "user-2"), mustScope(t, "app-2", "user-1")}
	for _, s := range others {
		own(db, bank, s, "not mine")
	}
	c := acceptForget(t, db, "op-1", "app-1", "user-1")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if s := bank.lastScopeOf("deleteAll"); s != caller {
		t.Errorf("DeleteAll scope = %+v, want %+v", s, caller)
	}
	if n := bank.count(caller); n != 0 {
		t.Errorf("the caller still has %d memories", n)
	}
	for _, s := range others {
		if n := bank.count(s); n != 1 {
			t.Errorf("scope %s/%s has %d memories, want its 1", s.AppID(), s.EndUser(), n)
		}
	}
	requireForgotten(t, db, c, 3)
}

func TestForgetMemories_emptyScopeSucceeds(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := acceptForget(t, db, "op-1", "app-1", "")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	requireForgotten(t, db, c, 0)
}

func TestForgetMemories_redeliveryAfterSuccessIsAcknowledged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	own(db, bank, mustScope(t, "app-1", ""), "v1")
	c := acceptForget(t, db, "op-1", "app-1", "")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	for i := range 2 {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if n := bank.callCount("deleteAll"); n != 1 {
		t.Errorf("DeleteAll called %d times, want 1", n)
	}
	requireForgotten(t, db, c, 1)
}

// The worker forgets, then dies before the completion commits. The redelivery
// forgets an empty scope and finishes the operation; the count it reports is
// what it found, because the first attempt's was never stored.
func TestForgetMemories_crashAfterBankCallBeforeCommit(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "user-1")
	own(db, bank, scope, "v1")
	own(db, bank, scope, "v2")
	c := acceptForget(t, db, "op-1", "app-1", "user-1")
	refuseFirstCompletion(db)
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Millisecond}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, errCommit) {
		t.Fatalf("first Handle = %v, want the commit failure", err)
	}
	if n := bank.count(scope); n != 0 {
		t.Fatalf("the first attempt left %d memories", n)
	}
	requirePendingLeased(t, db, "op-1")

	if err := redeliverUntilClaimed(t, func() error { return h.Handle(context.Background(), c) }); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	requireForgotten(t, db, c, 2) // the registry still held both: the count is true
	if got := db.operation("op-1").Attempts(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestForgetMemories_transientErrorLeavesTheOperationPending(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "")
	own(db, bank, scope, "v1")
	down := &memory.BankError{Transient: true, Reason: "circuit open"}
	bank.failNext("deleteAll", down)
	c := acceptForget(t, db, "op-1", "app-1", "")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, down) {
		t.Fatalf("Handle = %v, want the transient error", err)
	}
	requirePending(t, db, "op-1", 1)
	if n := bank.count(scope); n != 1 {
		t.Fatalf("scope holds %d memories after the failed attempt", n)
	}
	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("retry: %v", err)
	}
	requireForgotten(t, db, c, 1)
}

// A key that may not delete a whole scope (mem0's open-source server keeps
// it to its admin key) makes the forget delete one by one: it still finishes.
func TestForgetMemories_refusedDeleteAllDeletesByID(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "user-1")
	for i := range 7 {
		own(db, bank, scope, fmt.Sprintf("fact %d", i))
	}
	bank.failNext("deleteAll", &memory.BankError{StatusCode: 403, Reason: "Admin role required."})
	c := acceptForget(t, db, "op-1", "app-1", "user-1")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if n := bank.count(scope); n != 0 {
		t.Fatalf("the scope still holds %d memories", n)
	}
	if n := bank.callCount("delete"); n != 7 {
		t.Errorf("deleted %d by id, want 7", n)
	}
	requireForgotten(t, db, c, 7)
}

// Memories the Memory Bank holds that the registry does not know (stored
// before it existed) are found by listing, however few it lists at a time,
// deleted and counted; the forget ends only when nothing is listed.
func TestForgetMemories_deletesWhatTheBankStillListsUntilNothingIs(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "")
	for i := range 8 { // more than the fake lists at once
		bank.put(scope, fmt.Sprintf("unregistered %d", i))
	}
	own(db, bank, scope, "registered")
	bank.failNext("deleteAll", &memory.BankError{StatusCode: 403, Reason: "Admin role required."})
	c := acceptForget(t, db, "op-1", "app-1", "")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if n := bank.count(scope); n != 0 {
		t.Fatalf("the scope still holds %d memories", n)
	}
	requireForgotten(t, db, c, 9)
}

func TestForgetMemories_permanentBankErrorFailsTheOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	own(db, bank, mustScope(t, "app-1", "user-1"), "v1")
	bank.failNext("deleteAll", &memory.BankError{StatusCode: 403, Reason: "Admin role required."})
	bank.failNext("delete", &memory.BankError{StatusCode: 400, Reason: "memory_id should be a valid UUID"})
	c := acceptForget(t, db, "op-1", "app-1", "user-1")
	h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	ev := requireFailedWith(t, db, "op-1", "memory-bank-rejected")
	failed, ok := ev.(*events.MemoriesForgettingFailed)
	if !ok {
		t.Fatalf("published %T, want *events.MemoriesForgettingFailed", ev)
	}
	if failed.Version != events.Version || failed.OperationID != "op-1" || failed.AppID != "app-1" || failed.EndUser != "user-1" ||
		failed.Code != "memory-bank-rejected" || failed.Detail != "memory_id should be a valid UUID" || failed.RequestID != c.RequestID {
		t.Errorf("MemoriesForgettingFailed = %+v", failed)
	}
	if op := db.operation("op-1"); op.Removed() != 0 {
		t.Errorf("removed = %d on a failed operation", op.Removed())
	}
}
