package command_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

func TestFailCreateMemory_failsPendingOperation(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "user-1")
	h := command.NewFailCreateMemoryHandler(db, nil, nil)

	err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "op-1", RequestID: "req-op-1", Reason: "503 x5"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	op := db.operation("op-1")
	if op.Status() != operation.StatusFailed {
		t.Fatalf("status = %q, want failed", op.Status())
	}
	f := op.Failure()
	if f == nil || f.Code != "retries-exhausted" || !strings.Contains(f.Detail, "503 x5") {
		t.Errorf("failure = %+v", f)
	}
	entries := db.auditsOf("op-1")
	if len(entries) != 1 || entries[0].Status != audit.StatusFailed || !strings.HasPrefix(entries[0].Detail, "retries-exhausted") {
		t.Errorf("audit = %+v, want one failed entry", entries)
	}
	failed := publishedOf[*events.MemoryCreationFailed](db)
	if len(failed) != 1 {
		t.Fatalf("%d MemoryCreationFailed events, want 1", len(failed))
	}
	if ev := failed[0]; ev.OperationID != "op-1" || ev.AppID != "app-1" || ev.EndUser != "user-1" ||
		ev.Code != "retries-exhausted" || ev.RequestID != "req-op-1" {
		t.Errorf("MemoryCreationFailed = %+v", ev)
	}
}

func TestFailCreateMemory_terminalOperationUnchanged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	if err := command.NewCreateMemoryHandler(db, bank, command.CreateMemoryConfig{}, nil, nil).Handle(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	before := db.operation("op-1")
	eventsBefore := db.published()
	auditBefore := db.auditsOf("op-1")

	h := command.NewFailCreateMemoryHandler(db, nil, nil)
	if err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "op-1", Reason: "late poison"}); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}

	after := db.operation("op-1")
	if after.Status() != operation.StatusSucceeded || after.Failure() != nil ||
		!slices.Equal(after.MemoryIDs(), before.MemoryIDs()) || !after.UpdatedAt().Equal(before.UpdatedAt()) {
		t.Errorf("succeeded operation changed: %q %+v %v", after.Status(), after.Failure(), after.MemoryIDs())
	}
	if got := db.published(); len(got) != len(eventsBefore) {
		t.Errorf("events: %d before, %d after", len(eventsBefore), len(got))
	}
	if got := db.auditsOf("op-1"); !slices.Equal(got, auditBefore) {
		t.Errorf("audit changed: %+v -> %+v", auditBefore, got)
	}
}

func TestFailCreateMemory_unknownOperation(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	h := command.NewFailCreateMemoryHandler(db, nil, nil)

	if err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "missing", Reason: "x"}); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	if db.operationCount() != 0 || db.auditCount() != 0 || len(db.published()) != 0 {
		t.Error("unknown operation produced writes")
	}
}

func TestFailCreateMemory_commitFailureIsRetried(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "")
	db.beforeCommit = func(*fakeTx) error { return errCommit }
	h := command.NewFailCreateMemoryHandler(db, nil, nil)

	if err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "op-1"}); !errors.Is(err, errCommit) {
		t.Fatalf("Handle = %v, want the commit failure", err)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending {
		t.Errorf("status = %q after a failed commit, want pending", op.Status())
	}
}

// While another delivery holds the lease its Memory Bank call may still succeed:
// the poison handler must not end the operation under it, only retry later.
func TestFailCreateMemory_leasedOperationIsLeftAlone(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "")
	op := db.operation("op-1")
	if err := op.Claim(time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	db.putOperation(op)
	h := command.NewFailCreateMemoryHandler(db, nil, nil)

	if err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "op-1"}); !errors.Is(err, operation.ErrLeased) {
		t.Fatalf("Handle = %v, want ErrLeased", err)
	}
	if got := db.operation("op-1"); got.Status() != operation.StatusPending || !got.LeaseUntil().Equal(op.LeaseUntil()) {
		t.Errorf("leased operation changed: %q, lease %v", got.Status(), got.LeaseUntil())
	}
	if n := len(db.published()); n != 0 {
		t.Errorf("%d events published", n)
	}

	// Once the lease is given back, the failure goes through.
	op.Release(op.Attempts())
	db.putOperation(op)
	if err := h.Handle(context.Background(), command.FailCreateMemory{OperationID: "op-1"}); err != nil {
		t.Fatalf("Handle after release = %v", err)
	}
	if got := db.operation("op-1"); got.Status() != operation.StatusFailed {
		t.Errorf("status = %q, want failed", got.Status())
	}
}
