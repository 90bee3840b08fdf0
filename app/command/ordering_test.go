package command_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// A forget delivered before the create accepted ahead of it steps aside
// without touching the Memory Bank; the create, once done, hands it the turn,
// and the forget then removes what the create stored. The create's command
// arriving again afterwards (resent, redelivered) changes nothing.
func TestOrder_laterWriteWaitsForTheEarlierToHandItTheTurn(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "user-1")
	create := accept(t, db, "op-create", "app-1", "user-1")
	forget := acceptForget(t, db, "op-forget", "app-1", "user-1")
	creates := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
	forgets := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
	ctx := context.Background()

	if err := forgets.Handle(ctx, forget); err != nil {
		t.Fatalf("the forget, first: %v", err)
	}
	if n := bank.callCount("deleteAll") + bank.callCount("delete"); n != 0 || db.operation("op-forget").Status() != operation.StatusPending {
		t.Fatalf("the forget ran before the create: %d deletes, %s", n, db.operation("op-forget").Status())
	}

	if err := creates.Handle(ctx, create); err != nil {
		t.Fatalf("the create: %v", err)
	}
	if op := db.operation("op-create"); op.Status() != operation.StatusSucceeded {
		t.Fatalf("the create ended %s", op.Status())
	}
	var handed *events.ForgetMemories
	for _, c := range db.sender().commands() {
		if f, ok := c.(*events.ForgetMemories); ok && f.OperationID == "op-forget" {
			handed = f
		}
	}
	if handed == nil {
		t.Fatalf("the create handed the turn to %v, want the forget", db.sender().commands())
	}

	if err := forgets.Handle(ctx, forget); err != nil {
		t.Fatalf("the forget, handed the turn: %v", err)
	}
	if op := db.operation("op-forget"); op.Status() != operation.StatusSucceeded || op.Removed() != 1 {
		t.Fatalf("the forget ended %s, removed %d; want succeeded, 1", op.Status(), op.Removed())
	}
	if n := bank.count(scope); n != 0 {
		t.Fatalf("the Memory Bank holds %d memories after the forget", n)
	}

	if err := creates.Handle(ctx, create); err != nil {
		t.Fatalf("the create, resent: %v", err)
	}
	if n, adds := bank.count(scope), bank.addCalls(); n != 0 || adds != 1 {
		t.Fatalf("the resent create left %d memories after %d adds; want 0 after 1", n, adds)
	}
}

// Of two corrections of one memory, the later one delivered first waits: the
// memory ends with the later content whatever order they arrive in.
func TestOrder_laterCorrectionStays(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "")
	id := own(db, bank, scope, "lives in Lyon")
	first := acceptUpdate(t, db, "op-1", "app-1", "", id, "lives in Paris")
	second := acceptUpdate(t, db, "op-2", "app-1", "", id, "lives in Berlin")
	updates := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
	ctx := context.Background()

	for _, c := range []events.UpdateMemory{second, first, second} {
		if err := updates.Handle(ctx, c); err != nil {
			t.Fatalf("update %s: %v", c.OperationID, err)
		}
	}
	for _, op := range []string{"op-1", "op-2"} {
		if s := db.operation(op).Status(); s != operation.StatusSucceeded {
			t.Fatalf("%s ended %s", op, s)
		}
	}
	if got, _ := bank.content(id); got != "lives in Berlin" {
		t.Fatalf("the memory reads %q, want the later correction", got)
	}
}

// A create parked in the dead letters, then replayed after a forget accepted
// after it has run, must not bring the memory back: it ends failed as
// superseded, and the Memory Bank holds nothing of the scope.
func TestOrder_replayedCreateOlderThanAForgetIsSuperseded(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	scope := mustScope(t, "app-1", "alice")
	create := accept(t, db, "op-create", "app-1", "alice")
	forget := acceptForget(t, db, "op-forget", "app-1", "alice")
	ctx := context.Background()

	// The create exhausts its retries and is parked; the forget then runs.
	if err := command.NewFailOperationHandler(db, db.sender(), command.WorkerConfig{}, nil, nil).Handle(ctx, command.FailOperation{
		OperationID: "op-create", Reason: "the Memory Bank was down",
	}); err != nil {
		t.Fatal(err)
	}
	if err := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil).Handle(ctx, forget); err != nil {
		t.Fatal(err)
	}
	if s := db.operation("op-forget").Status(); s != operation.StatusSucceeded {
		t.Fatalf("the forget ended %s", s)
	}

	payload, _ := json.Marshal(create)
	letters := &fakeLetters{letters: map[string]command.DeadLetter{"1-0": {
		ID: "1-0", Command: "CreateMemory", OperationID: "op-create", AppID: "app-1", EndUser: "alice", Payload: payload,
	}}}
	if _, err := command.NewReplayDeadLetterHandler(db, letters, &fakeSender{}, nil, nil).Handle(ctx, command.ReplayDeadLetter{MessageID: "1-0"}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if err := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil).Handle(ctx, create); err != nil {
		t.Fatalf("the replayed create: %v", err)
	}
	op := db.operation("op-create")
	if op.Status() != operation.StatusFailed || op.Failure().Code != operation.FailureSuperseded {
		t.Fatalf("the replayed create ended %s %+v, want failed as superseded", op.Status(), op.Failure())
	}
	if n := bank.count(scope); n != 0 {
		t.Fatalf("the Memory Bank holds %d memories of the forgotten scope", n)
	}
}
