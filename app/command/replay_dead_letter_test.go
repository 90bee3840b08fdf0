package command_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// fakeLetters is a dead-letter stream in memory.
type fakeLetters struct {
	letters map[string]command.DeadLetter
}

func (f *fakeLetters) List(context.Context) ([]command.DeadLetter, error) {
	var out []command.DeadLetter
	for _, l := range f.letters {
		out = append(out, l)
	}
	return out, nil
}

func (f *fakeLetters) Get(_ context.Context, id string) (command.DeadLetter, error) {
	l, ok := f.letters[id]
	if !ok {
		return l, errs.NotFound("dead-letter-not-found", "no dead letter with this message id")
	}
	return l, nil
}

func (f *fakeLetters) Remove(_ context.Context, id string) error {
	delete(f.letters, id)
	return nil
}

// parked stores an operation in the given end state with its terminal audit
// entry, and its command on the dead-letter stream as "1-0".
func parked(t *testing.T, end func(*operation.Operation) error) (*fakeDB, *fakeLetters) {
	t.Helper()
	db := newFakeDB()
	now := time.Now().UTC()
	op, _ := operation.New("op-1", "app-1", "alice", operation.KindCreateMemory, now)
	if err := end(op); err != nil {
		t.Fatal(err)
	}
	db.putOperation(op)
	status := audit.Status(op.Status())
	_ = db.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error {
		return tx.InsertAudit(ctx, audit.Entry{AppID: "app-1", EndUser: "alice", Action: audit.ActionCreateMemory, Status: status,
			OperationID: "op-1", Detail: "retries-exhausted: down", OccurredAt: now, CompletedAt: now})
	})
	payload := []byte(`{"version":1,"operation_id":"op-1","app_id":"app-1","end_user":"alice","content":"likes tea","request_id":"req-1"}`)
	letters := &fakeLetters{letters: map[string]command.DeadLetter{"1-0": {
		ID: "1-0", Command: "CreateMemory", OperationID: "op-1", AppID: "app-1", CorrelationID: "req-1", Payload: payload,
	}}}
	return db, letters
}

func failParked(op *operation.Operation) error {
	return op.Fail(operation.Failure{Code: operation.FailureRetriesExhausted, Detail: "down"}, time.Now())
}

func TestReplayReopensOperationAndAuditAndRequeues(t *testing.T) {
	t.Parallel()
	db, letters := parked(t, failParked)
	sender := &fakeSender{}
	h := command.NewReplayDeadLetterHandler(db, letters, sender, nil, nil)
	if _, err := h.Handle(context.Background(), command.ReplayDeadLetter{MessageID: "1-0"}); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending || op.Failure() != nil {
		t.Fatalf("operation after replay: %s %v", op.Status(), op.Failure())
	}
	entries := db.auditsOf("op-1")
	if len(entries) != 1 || entries[0].Status != audit.StatusPending || entries[0].Detail != "" || !entries[0].CompletedAt.IsZero() {
		t.Fatalf("audit after replay: %+v", entries)
	}
	sent := sender.commands()
	if c, ok := sent[0].(*events.CreateMemory); len(sent) != 1 || !ok || c.OperationID != "op-1" || c.Draft.Content != "likes tea" {
		t.Fatalf("sent %#v, want the parked command", sent)
	}
	if len(letters.letters) != 0 {
		t.Fatalf("left %v", letters.letters)
	}
	// Kept again: should the send be lost, ResendLostCommands finds it.
	if kept := db.keptCommand("op-1"); kept == nil {
		t.Fatal("the replayed operation keeps no command")
	}
}

// A failed commit leaves the operation failed and the entry listed; the command
// it sent finds a finished operation and does nothing.
func TestReplayKeepsEntryWhenCommitFails(t *testing.T) {
	t.Parallel()
	db, letters := parked(t, failParked)
	db.beforeCommit = func(*fakeTx) error { return errCommit }
	sender := &fakeSender{}
	if _, err := command.NewReplayDeadLetterHandler(db, letters, sender, nil, nil).Handle(context.Background(), command.ReplayDeadLetter{MessageID: "1-0"}); !errors.Is(err, errCommit) {
		t.Fatalf("Replay = %v, want the commit's error", err)
	}
	if sent := sender.commands(); len(sent) != 0 {
		t.Fatalf("sent %v for a replay that did not commit", sent)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusFailed {
		t.Fatalf("operation is %s", op.Status())
	}
	if _, ok := letters.letters["1-0"]; !ok {
		t.Fatal("the entry was removed although nothing was replayed")
	}
}

func TestReplayRefusesSucceededAndUnknown(t *testing.T) {
	t.Parallel()
	db, letters := parked(t, func(op *operation.Operation) error { return op.Succeed([]string{"m1"}, time.Now()) })
	sender := &fakeSender{}
	h := command.NewReplayDeadLetterHandler(db, letters, sender, nil, nil)
	if _, err := h.Handle(context.Background(), command.ReplayDeadLetter{MessageID: "1-0"}); !errors.Is(err, operation.ErrNotReplayable) {
		t.Fatalf("Replay of a succeeded operation = %v", err)
	}
	if len(sender.commands()) != 0 || db.operation("op-1").Status() != operation.StatusSucceeded {
		t.Fatal("a succeeded operation was replayed")
	}
	if e := db.auditsOf("op-1"); e[0].Status != audit.StatusSucceeded {
		t.Fatalf("audit moved: %+v", e)
	}
	if _, err := h.Handle(context.Background(), command.ReplayDeadLetter{MessageID: "9-9"}); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("Replay of an unknown id = %v, want not found", err)
	}
}
