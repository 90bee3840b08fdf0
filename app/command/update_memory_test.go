package command_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// requireUpdated checks a succeeded update: the operation names the memory, and
// one MemoryUpdated agrees with it.
func requireUpdated(t *testing.T, db *fakeDB, c events.UpdateMemory) {
	t.Helper()
	op, ev := requireFinished(t, db, c.OperationID, operation.StatusSucceeded)
	if !slices.Equal(op.MemoryIDs(), []string{c.MemoryID}) || op.Removed() != 0 {
		t.Errorf("operation memory ids = %v, removed %d; want [%s], 0", op.MemoryIDs(), op.Removed(), c.MemoryID)
	}
	updated, ok := ev.(*events.MemoryUpdated)
	if !ok {
		t.Fatalf("published %T, want *events.MemoryUpdated", ev)
	}
	if updated.Version != events.Version || updated.OperationID != c.OperationID || updated.AppID != c.AppID ||
		updated.EndUser != c.EndUser || updated.MemoryID != c.MemoryID || updated.RequestID != c.RequestID || updated.OccurredAt.IsZero() {
		t.Errorf("MemoryUpdated = %+v", updated)
	}
}

func TestUpdateMemory_success(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "user-1")
	id := own(db, bank, scope, "likes green tea")
	c := acceptUpdate(t, db, "op-1", "app-1", "user-1", id, "likes oolong")
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got, _ := bank.content(id); got != "likes oolong" {
		t.Errorf("content = %q, want the update", got)
	}
	if s := bank.lastScopeOf("update"); s != scope {
		t.Errorf("Update scope = %+v, want %+v", s, scope)
	}
	requireUpdated(t, db, c)
	if got := db.operation("op-1").Attempts(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestUpdateMemory_notFoundFailsTheOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := acceptUpdate(t, db, "op-1", "app-1", "user-1", "mem-404", "likes oolong")
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil: a missing memory is not retried", err)
	}
	ev := requireFailedWith(t, db, "op-1", "memory-not-found")
	failed, ok := ev.(*events.MemoryUpdateFailed)
	if !ok {
		t.Fatalf("published %T, want *events.MemoryUpdateFailed", ev)
	}
	if failed.Version != events.Version || failed.OperationID != "op-1" || failed.AppID != "app-1" || failed.EndUser != "user-1" ||
		failed.MemoryID != "mem-404" || failed.Code != "memory-not-found" || failed.Detail == "" || failed.RequestID != c.RequestID {
		t.Errorf("MemoryUpdateFailed = %+v", failed)
	}

	// The registry, not the Memory Bank, said so; a redelivery changes nothing.
	if err := h.Handle(context.Background(), c); err != nil {
		t.Errorf("redelivery = %v", err)
	}
	if n := bank.callCount("update"); n != 0 {
		t.Errorf("Update called %d times for a memory the scope does not hold", n)
	}
}

// A memory of another application, of another end user, or of the application
// itself when an end user asks, is as missing as one that does not exist: the
// registry says so, the operation fails and the memory is left as it was,
// never touched.
func TestUpdateMemory_otherScopesAreOutOfReach(t *testing.T) {
	t.Parallel()

	for _, tt := range foreignScopes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			id := own(db, bank, mustScope(t, tt.owner[0], tt.owner[1]), "not yours")
			c := acceptUpdate(t, db, "op-1", tt.caller[0], tt.caller[1], id, "overwritten")
			h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

			if err := h.Handle(context.Background(), c); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got, ok := bank.content(id); !ok || got != "not yours" {
				t.Errorf("the other scope's memory is now %q (exists %v)", got, ok)
			}
			if n := bank.callCount("update"); n != 0 {
				t.Errorf("Update called %d times on another scope's memory", n)
			}
			requireFailedWith(t, db, "op-1", "memory-not-found")
		})
	}
}

func TestUpdateMemory_redeliveryAfterSuccessIsAcknowledged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	c := acceptUpdate(t, db, "op-1", "app-1", "", id, "v2")
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	for i := range 2 {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if n := bank.callCount("update"); n != 1 {
		t.Errorf("Update called %d times, want 1", n)
	}
	requireUpdated(t, db, c)
}

// The worker updates the memory, then dies before the completion commits. The
// redelivery updates again, which changes nothing, and finishes the operation.
func TestUpdateMemory_crashAfterBankCallBeforeCommit(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", "user-1"), "v1")
	c := acceptUpdate(t, db, "op-1", "app-1", "user-1", id, "v2")
	refuseFirstCompletion(db)
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Millisecond}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, errCommit) {
		t.Fatalf("first Handle = %v, want the commit failure", err)
	}
	if got, _ := bank.content(id); got != "v2" {
		t.Fatalf("content = %q after the first attempt", got)
	}
	requirePendingLeased(t, db, "op-1")

	if err := redeliverUntilClaimed(t, func() error { return h.Handle(context.Background(), c) }); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if got, _ := bank.content(id); got != "v2" {
		t.Errorf("content = %q, want v2", got)
	}
	requireUpdated(t, db, c)
	if got := db.operation("op-1").Attempts(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestUpdateMemory_transientErrorLeavesTheOperationPending(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		err  error
	}{
		{"transient bank error", &memory.BankError{Transient: true, StatusCode: 503, Reason: "unavailable"}},
		{"timeout", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			id := own(db, bank, mustScope(t, "app-1", ""), "v1")
			bank.failNext("update", tt.err)
			c := acceptUpdate(t, db, "op-1", "app-1", "", id, "v2")
			h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

			if err := h.Handle(context.Background(), c); !errors.Is(err, tt.err) {
				t.Fatalf("Handle = %v, want the transient error for a retry", err)
			}
			requirePending(t, db, "op-1", 1)

			// The lease was given back: the retry reaches the Memory Bank at once.
			if err := h.Handle(context.Background(), c); err != nil {
				t.Fatalf("retry: %v", err)
			}
			requireUpdated(t, db, c)
			if got, _ := bank.content(id); got != "v2" {
				t.Errorf("content = %q, want v2", got)
			}
		})
	}
}

func TestUpdateMemory_permanentBankErrorFailsTheOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	id := own(db, bank, mustScope(t, "app-1", ""), "v1")
	bank.failNext("update", &memory.BankError{StatusCode: 400, Reason: "content rejected"})
	c := acceptUpdate(t, db, "op-1", "app-1", "", id, "v2")
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	ev := requireFailedWith(t, db, "op-1", "memory-bank-rejected")
	if failed, ok := ev.(*events.MemoryUpdateFailed); !ok || failed.Detail != "content rejected" || failed.MemoryID != id {
		t.Errorf("event = %+v, want MemoryUpdateFailed with the reason", ev)
	}
}

// A NotFound without a BankError inside (a plain domain error) is still a
// missing memory, not a transient failure to retry forever.
func TestUpdateMemory_plainNotFoundIsNotRetried(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	bank.failNext("update", errs.NotFound("memory-not-found", "gone"))
	c := acceptUpdate(t, db, "op-1", "app-1", "", "mem-1", "v2")
	h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	requireFailedWith(t, db, "op-1", "memory-not-found")
}
