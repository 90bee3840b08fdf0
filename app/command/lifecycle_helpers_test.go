package command_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// sentOne runs an accept handler through handle and returns the command the
// worker receives for operation opID, as *T: the one it queued, or, for a
// write accepted behind a pending one of its scope (queued nothing), the
// kept command the earlier write hands over.
func sentOne[T any](t *testing.T, db *fakeDB, opID string, handle func(command.CommandSender) error) T {
	t.Helper()
	sender := &fakeSender{}
	if err := handle(sender); err != nil {
		t.Fatalf("accept: %v", err)
	}
	sent := sender.commands()
	if op := db.operation(opID); op != nil && op.Behind() {
		if len(sent) != 0 {
			t.Fatalf("accept behind a pending write sent %d commands, want none", len(sent))
		}
		sent = []any{db.keptCommand(opID)}
	}
	if len(sent) != 1 {
		t.Fatalf("accept sent %d commands, want 1", len(sent))
	}
	cmd, ok := sent[0].(T)
	if !ok {
		t.Fatalf("accept sent %T, want %T", sent[0], *new(T))
	}
	return cmd
}

// acceptUpdate runs AcceptUpdateMemory against db and returns the command the
// worker would receive, as the messaging port builds it from the payload.
func acceptUpdate(t *testing.T, db *fakeDB, opID, appID, endUser, memoryID, content string) events.UpdateMemory {
	t.Helper()
	ev := sentOne[*events.UpdateMemory](t, db, opID, func(s command.CommandSender) error {
		return command.NewAcceptUpdateMemoryHandler(db, s, ownsAll{}, nil, nil).Handle(context.Background(), command.AcceptUpdateMemory{
			Acceptance: command.Acceptance{OperationID: opID, AppID: appID, EndUser: endUser, RequestID: "req-" + opID}, MemoryID: memoryID, Content: content,
		})
	})
	return *ev
}

func acceptDelete(t *testing.T, db *fakeDB, opID, appID, endUser, memoryID string) events.DeleteMemory {
	t.Helper()
	ev := sentOne[*events.DeleteMemory](t, db, opID, func(s command.CommandSender) error {
		return command.NewAcceptDeleteMemoryHandler(db, s, ownsAll{}, nil, nil).Handle(context.Background(), command.AcceptDeleteMemory{
			Acceptance: command.Acceptance{OperationID: opID, AppID: appID, EndUser: endUser, RequestID: "req-" + opID}, MemoryID: memoryID,
		})
	})
	return *ev
}

func acceptForget(t *testing.T, db *fakeDB, opID, appID, endUser string) events.ForgetMemories {
	t.Helper()
	ev := sentOne[*events.ForgetMemories](t, db, opID, func(s command.CommandSender) error {
		return command.NewAcceptForgetMemoriesHandler(db, s, nil, nil).Handle(context.Background(), command.AcceptForgetMemories{
			Acceptance: command.Acceptance{OperationID: opID, AppID: appID, EndUser: endUser, RequestID: "req-" + opID},
		})
	})
	return *ev
}

// requireFinished checks the committed outcome of a finished operation: its
// status, exactly one terminal audit entry of that status, no lease, and exactly
// one event in all, which it returns.
func requireFinished(t *testing.T, db *fakeDB, opID string, want operation.Status) (*operation.Operation, any) {
	t.Helper()
	op := db.operation(opID)
	if op == nil {
		t.Fatalf("operation %s does not exist", opID)
	}
	if op.Status() != want {
		t.Fatalf("operation status = %q, want %q (failure %+v)", op.Status(), want, op.Failure())
	}
	if !op.LeaseUntil().IsZero() {
		t.Errorf("lease %v kept on a finished operation", op.LeaseUntil())
	}
	entries := db.auditsOf(opID)
	if len(entries) != 1 {
		t.Fatalf("audit entries = %+v, want one", entries)
	}
	if e := entries[0]; string(e.Status) != string(want) || e.CompletedAt.IsZero() || e.CompletedAt.Before(e.OccurredAt) {
		t.Errorf("audit entry = %+v, want completed %s", e, want)
	}
	evs := db.published()
	if len(evs) != 1 {
		t.Fatalf("%d events published, want 1: %+v", len(evs), evs)
	}
	return op, evs[0]
}

// requirePending checks that an operation is still pending and free to retry,
// with its audit entry pending and no event published.
func requirePending(t *testing.T, db *fakeDB, opID string, attempts int) {
	t.Helper()
	op := db.operation(opID)
	if op.Status() != operation.StatusPending || op.Attempts() != attempts || !op.LeaseUntil().IsZero() {
		t.Errorf("operation: status %q, attempts %d, lease %v; want pending, %d attempts, no lease",
			op.Status(), op.Attempts(), op.LeaseUntil(), attempts)
	}
	if e := db.auditsOf(opID); len(e) != 1 || e[0].Status != audit.StatusPending {
		t.Errorf("audit = %+v, want one pending entry", e)
	}
	if evs := db.published(); len(evs) != 0 {
		t.Errorf("events published for a pending operation: %+v", evs)
	}
}

// requireFailedWith checks that the operation failed with code and that its audit
// entry says so.
func requireFailedWith(t *testing.T, db *fakeDB, opID, code string) any {
	t.Helper()
	op, ev := requireFinished(t, db, opID, operation.StatusFailed)
	if f := op.Failure(); f == nil || f.Code != code {
		t.Errorf("failure = %+v, want code %q", f, code)
	}
	if e := db.auditsOf(opID)[0]; !strings.HasPrefix(e.Detail, code+": ") {
		t.Errorf("audit detail = %q, want it to start with %q", e.Detail, code)
	}
	return ev
}

// refuseFirstCompletion makes the database fail the COMMIT of the first
// transaction that publishes an event: the worker did its Memory Bank call, then
// lost the database (or died) before its outcome was stored.
func refuseFirstCompletion(db *fakeDB) {
	var refused atomic.Int32
	db.beforeCommit = func(tx *fakeTx) error {
		if len(tx.newEvents) > 0 && refused.Add(1) == 1 {
			return errCommit
		}
		return nil
	}
}

// redeliverUntilClaimed delivers again until the lease of the attempt that died
// has run out and the delivery runs; it returns that delivery's error.
func redeliverUntilClaimed(t *testing.T, handle func() error) error {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := handle()
		if !errors.Is(err, operation.ErrLeased) {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatal("lease never expired")
		}
		runtime.Gosched()
	}
}

// requirePendingLeased checks that an attempt that died left its operation
// pending, under its lease, with nothing of its outcome committed.
func requirePendingLeased(t *testing.T, db *fakeDB, opID string) {
	t.Helper()
	op := db.operation(opID)
	if op.Status() != operation.StatusPending || op.LeaseUntil().IsZero() || len(op.MemoryIDs()) != 0 || op.Removed() != 0 {
		t.Fatalf("the failed commit left status %q, lease %v, ids %v, removed %d", op.Status(), op.LeaseUntil(), op.MemoryIDs(), op.Removed())
	}
	if e := db.auditsOf(opID); len(e) != 1 || e[0].Status != audit.StatusPending {
		t.Errorf("audit = %+v, want one pending entry", e)
	}
	if n := len(db.published()); n != 0 {
		t.Fatalf("%d events survived the failed commit", n)
	}
}

// foreignScopes pairs a memory's owner with a caller who must never reach it.
var foreignScopes = []struct {
	name   string
	owner  [2]string // app, end user
	caller [2]string
}{
	{"another application", [2]string{"app-2", "user-1"}, [2]string{"app-1", "user-1"}},
	{"another end user", [2]string{"app-1", "user-2"}, [2]string{"app-1", "user-1"}},
	{"the application's own, asked by an end user", [2]string{"app-1", ""}, [2]string{"app-1", "user-1"}},
	{"an end user's, asked by the application", [2]string{"app-1", "user-1"}, [2]string{"app-1", ""}},
}

// own stores a memory in the bank, as an earlier operation of scope had, and
// registers it to scope; it returns its id.
func own(db *fakeDB, bank *fakeBank, scope memory.Scope, content string) string {
	id := bank.put(scope, content)
	db.registerMemory(scope, id)
	return id
}
