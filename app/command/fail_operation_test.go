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

func TestFailOperation_failsPendingOperation(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "user-1")
	h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)

	err := h.Handle(context.Background(), command.FailOperation{OperationID: "op-1", RequestID: "req-op-1", Reason: "503 x5"})
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

func TestFailOperation_terminalOperationUnchanged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	if err := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil).Handle(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	before := db.operation("op-1")
	eventsBefore := db.published()
	auditBefore := db.auditsOf("op-1")

	h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)
	if err := h.Handle(context.Background(), command.FailOperation{OperationID: "op-1", Reason: "late poison"}); err != nil {
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

func TestFailOperation_unknownOperation(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), command.FailOperation{OperationID: "missing", Reason: "x"}); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	if db.operationCount() != 0 || db.auditCount() != 0 || len(db.published()) != 0 {
		t.Error("unknown operation produced writes")
	}
}

func TestFailOperation_commitFailureIsRetried(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "")
	db.beforeCommit = func(*fakeTx) error { return errCommit }
	h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), command.FailOperation{OperationID: "op-1"}); !errors.Is(err, errCommit) {
		t.Fatalf("Handle = %v, want the commit failure", err)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending {
		t.Errorf("status = %q after a failed commit, want pending", op.Status())
	}
}

// While another delivery holds the lease its Memory Bank call may still succeed:
// the poison handler must not end the operation under it, only retry later.
func TestFailOperation_leasedOperationIsLeftAlone(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	accept(t, db, "op-1", "app-1", "")
	op := db.operation("op-1")
	if err := op.Claim(time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	db.putOperation(op)
	h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), command.FailOperation{OperationID: "op-1"}); !errors.Is(err, operation.ErrLeased) {
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
	if err := h.Handle(context.Background(), command.FailOperation{OperationID: "op-1"}); err != nil {
		t.Fatalf("Handle after release = %v", err)
	}
	if got := db.operation("op-1"); got.Status() != operation.StatusFailed {
		t.Errorf("status = %q, want failed", got.Status())
	}
}

// Every kind of command can be poisoned: its operation fails with the failure
// event of its kind, carrying the memory the command was about.
func TestFailOperation_everyKindGetsItsOwnFailureEvent(t *testing.T) {
	t.Parallel()

	type failed struct{ opID, appID, endUser, memoryID, code, requestID string }
	tests := []struct {
		name     string
		accept   func(t *testing.T, db *fakeDB)
		memoryID string
		event    func(ev any) (failed, bool)
	}{
		{"create", func(t *testing.T, db *fakeDB) { accept(t, db, "op-1", "app-1", "user-1") }, "", func(ev any) (failed, bool) {
			e, ok := ev.(*events.MemoryCreationFailed)
			if !ok {
				return failed{}, false
			}
			return failed{e.OperationID, e.AppID, e.EndUser, "", e.Code, e.RequestID}, e.Version == events.Version
		}},
		{"update", func(t *testing.T, db *fakeDB) { acceptUpdate(t, db, "op-1", "app-1", "user-1", "mem-7", "v2") }, "mem-7", func(ev any) (failed, bool) {
			e, ok := ev.(*events.MemoryUpdateFailed)
			if !ok {
				return failed{}, false
			}
			return failed{e.OperationID, e.AppID, e.EndUser, e.MemoryID, e.Code, e.RequestID}, e.Version == events.Version
		}},
		{"delete", func(t *testing.T, db *fakeDB) { acceptDelete(t, db, "op-1", "app-1", "user-1", "mem-7") }, "mem-7", func(ev any) (failed, bool) {
			e, ok := ev.(*events.MemoryDeletionFailed)
			if !ok {
				return failed{}, false
			}
			return failed{e.OperationID, e.AppID, e.EndUser, e.MemoryID, e.Code, e.RequestID}, e.Version == events.Version
		}},
		{"forget", func(t *testing.T, db *fakeDB) { acceptForget(t, db, "op-1", "app-1", "user-1") }, "", func(ev any) (failed, bool) {
			e, ok := ev.(*events.MemoriesForgettingFailed)
			if !ok {
				return failed{}, false
			}
			return failed{e.OperationID, e.AppID, e.EndUser, "", e.Code, e.RequestID}, e.Version == events.Version
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newFakeDB()
			tt.accept(t, db)
			h := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil)

			err := h.Handle(context.Background(), command.FailOperation{
				OperationID: "op-1", RequestID: "req-op-1", MemoryID: tt.memoryID, Reason: "503 x5",
			})
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			ev := requireFailedWith(t, db, "op-1", "retries-exhausted")
			got, ok := tt.event(ev)
			if !ok {
				t.Fatalf("published %T (%+v), not the failure event of the kind", ev, ev)
			}
			want := failed{"op-1", "app-1", "user-1", tt.memoryID, "retries-exhausted", "req-op-1"}
			if got != want {
				t.Errorf("failure event = %+v, want %+v", got, want)
			}
			if f := db.operation("op-1").Failure(); !strings.Contains(f.Detail, "503 x5") {
				t.Errorf("failure detail %q lacks the reason", f.Detail)
			}
		})
	}
}
