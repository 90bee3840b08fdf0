package command_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// acceptCreate is a request to store the memory every test stores.
func acceptCreate(a command.Acceptance) command.AcceptCreateMemory {
	return command.AcceptCreateMemory{Acceptance: a, Content: "likes green tea",
		Metadata: map[string]any{"topic": "drinks", "score": 3.5}, ConversationID: "conv-1"}
}

// accept runs AcceptCreateMemory against db and returns the command the worker
// would receive, as the messaging port builds it from the payload.
func accept(t *testing.T, db *fakeDB, opID, appID, endUser string) events.CreateMemory {
	t.Helper()
	return *sentOne[*events.CreateMemory](t, db, opID, func(s command.CommandSender) error {
		return command.NewAcceptCreateMemoryHandler(db, s, nil, nil).Handle(context.Background(), acceptCreate(command.Acceptance{
			OperationID: opID, AppID: appID, EndUser: endUser, RequestID: "req-" + opID,
		}))
	})
}

func TestAcceptCreateMemory_writesAndSends(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)
	c := acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1", EndUser: "user-1", RequestID: "req-1"})
	before := time.Now()

	err := h.Handle(context.Background(), c)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	op := db.operation("op-1")
	if op == nil {
		t.Fatal("no operation written")
	}
	if op.Status() != operation.StatusPending || op.AppID() != "app-1" || op.EndUser() != "user-1" ||
		op.Kind() != operation.KindCreateMemory || op.Attempts() != 0 {
		t.Errorf("operation = %s %s %s %s attempts %d", op.Status(), op.AppID(), op.EndUser(), op.Kind(), op.Attempts())
	}

	entries := db.auditsOf("op-1")
	if len(entries) != 1 {
		t.Fatalf("audit entries = %+v, want one", entries)
	}
	e := entries[0]
	if e.Status != audit.StatusPending || e.Action != audit.ActionCreateMemory || e.AppID != "app-1" ||
		e.EndUser != "user-1" || e.RequestID != "req-1" || e.OccurredAt.Before(before) || !e.CompletedAt.IsZero() {
		t.Errorf("audit entry = %+v", e)
	}

	sent := sender.commands()
	if len(sent) != 1 {
		t.Fatalf("sent %d commands, want 1", len(sent))
	}
	cmd, ok := sent[0].(*events.CreateMemory)
	if !ok {
		t.Fatalf("sent %T, want *events.CreateMemory", sent[0])
	}
	if cmd.Version != events.Version || cmd.OperationID != "op-1" || cmd.AppID != "app-1" || cmd.EndUser != "user-1" ||
		cmd.Draft.Content != c.Content || cmd.Draft.ConversationID != "conv-1" || cmd.RequestID != "req-1" ||
		!maps.Equal(cmd.Draft.Metadata, c.Metadata) {
		t.Errorf("command = %+v", cmd)
	}
	if cmd.AcceptedAt.Before(before) || cmd.AcceptedAt.After(time.Now()) || cmd.AcceptedAt.Location() != time.UTC {
		t.Errorf("accepted at %v, want now in UTC", cmd.AcceptedAt)
	}
	if !cmd.AcceptedAt.Equal(op.CreatedAt()) {
		t.Errorf("accepted at %v, operation created at %v", cmd.AcceptedAt, op.CreatedAt())
	}
	if got := db.published(); len(got) != 0 {
		t.Errorf("events published on accept: %v", got)
	}
}

// The command is queued only once the operation has committed. One that
// cannot be queued then (Redis unreachable) leaves an accepted operation that
// keeps its command, for LostCommands to send again: the 202 rests on the commit.
func TestAcceptCreateMemory_queueFailureAfterCommitStillAccepts(t *testing.T) {
	t.Parallel()

	sendErr := errors.New("redis: connection refused")
	db, sender := newFakeDB(), &fakeSender{err: sendErr}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)

	err := h.Handle(context.Background(), acceptCreate(command.Acceptance{
		OperationID: "op-1", AppID: "app-1", RequestID: "req-1",
	}))
	if err != nil {
		t.Fatalf("error = %v, want the operation accepted", err)
	}
	if op := db.operation("op-1"); op == nil || op.Status() != operation.StatusPending || db.auditCount() != 1 {
		t.Fatalf("operation %v, %d audit entries: want it pending and audited", op, db.auditCount())
	}
	if kept, ok := db.keptCommand("op-1").(*events.CreateMemory); !ok || kept.OperationID != "op-1" {
		t.Fatalf("kept command = %#v, want the create", db.keptCommand("op-1"))
	}
}

// Queued after the commit: a worker never sees a command before its operation.
func TestAcceptCreateMemory_queuesAfterTheCommit(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	var committedFirst bool
	sender := &fakeSender{onSend: func(cmd any) { committedFirst = db.operation(events.OperationID(cmd)) != nil }}
	err := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil).Handle(context.Background(), acceptCreate(command.Acceptance{
		OperationID: "op-1", AppID: "app-1", RequestID: "req-1",
	}))
	if err != nil || len(sender.commands()) != 1 {
		t.Fatalf("accept: %v, sent %v", err, sender.commands())
	}
	if !committedFirst {
		t.Fatal("the command was queued before its operation committed")
	}
}

func TestAcceptCreateMemory_commitFailsIsUnavailable(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	db.beforeCommit = func(*fakeTx) error { return errCommit }
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)

	err := h.Handle(context.Background(), acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1"}))
	if errs.KindOf(err) != errs.KindUnavailable || !errors.Is(err, errCommit) {
		t.Fatalf("error = %v, want KindUnavailable wrapping the commit failure", err)
	}
	if db.operationCount() != 0 {
		t.Error("operation kept after a failed commit")
	}
}

func TestAcceptCreateMemory_sameOperationTwiceSendsOnce(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)
	c := acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1", RequestID: "req-1"})

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), c); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("second accept = %v, want KindUnavailable", err)
	}
	if n := len(sender.commands()); n != 1 {
		t.Errorf("sent %d commands, want 1", n)
	}
	if n := db.auditCount(); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
}

func TestAcceptCreateMemory_invalidOperation(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)

	for _, c := range []command.AcceptCreateMemory{
		acceptCreate(command.Acceptance{OperationID: "", AppID: "app-1"}),
		acceptCreate(command.Acceptance{OperationID: "op-1", AppID: ""}),
	} {
		if err := h.Handle(context.Background(), c); errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("Handle(%+v) = %v, want KindInvalid", c, err)
		}
	}
	if len(sender.commands()) != 0 || db.operationCount() != 0 {
		t.Error("invalid command was written or sent")
	}
}

// The fake unit of work must really roll back, or the tests above prove nothing.
func TestFakeDB_rollsBackFailedTransaction(t *testing.T) {
	t.Parallel()

	db := newFakeDB()
	op, err := operation.New("op-1", "app-1", "", operation.KindCreateMemory, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = db.InTx(context.Background(), func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertOperation(ctx, op, nil); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, audit.Entry{OperationID: "op-1"}); err != nil {
			return err
		}
		if err := tx.Publish(ctx, "event"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if db.operationCount() != 0 || db.auditCount() != 0 || len(db.published()) != 0 || db.commits != 0 {
		t.Error("fake transactor kept the writes of a failed transaction")
	}
}

// The Idempotency-Key response of the request commits with the operation it
// answers for; a key taken over by another request (this one was presumed
// dead) makes the accept write nothing.
func TestAcceptCreateMemory_storesTheIdempotencyResponseWithTheOperation(t *testing.T) {
	t.Parallel()

	scope := idempotency.Scope{AppID: "app-1"}
	key, err := idempotency.ParseKey(`"k-1"`)
	if err != nil {
		t.Fatal(err)
	}
	reply := &idempotency.Completion{Scope: scope, Key: key, Lock: "lock-1", Response: idempotency.Response{Status: 202, Body: []byte(`{"operation_id":"op-1"}`)}}
	db := newFakeDB()
	h := command.NewAcceptCreateMemoryHandler(db, &fakeSender{}, nil, nil)
	if err := h.Handle(context.Background(), acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1", Reply: reply})); err != nil {
		t.Fatal(err)
	}
	if len(db.replies) != 1 || db.replies[0].Lock != "lock-1" || db.operation("op-1") == nil {
		t.Fatalf("stored replies %+v with the operation", db.replies)
	}

	lost := *reply
	lost.Lock = "lost"
	err = h.Handle(context.Background(), acceptCreate(command.Acceptance{OperationID: "op-2", AppID: "app-1", Reply: &lost}))
	if errs.KindOf(err) != errs.KindConflict {
		t.Fatalf("a lost key: %v, want a conflict", err)
	}
	if db.operation("op-2") != nil {
		t.Fatal("the work was accepted although another request holds the key")
	}
}

// The memory is validated once, by the use case, before anything is written:
// the command then carries the domain's draft to the Memory Bank.
func TestAcceptCreateMemory_refusesAMemoryThatBreaksTheRules(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)
	c := acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1"})
	c.Metadata = map[string]any{"user_id": "someone else"}
	if err := h.Handle(context.Background(), c); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("Handle = %v, want KindInvalid", err)
	}
	c = acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1"})
	c.Content = " \n "
	if err := h.Handle(context.Background(), c); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("Handle = %v, want KindInvalid", err)
	}
	if len(sender.commands()) != 0 || db.operationCount() != 0 || db.auditCount() != 0 {
		t.Error("an invalid memory was written or sent")
	}
}

// The audit entry says which door the call came through: the REST API unless
// the port put another channel on the context.
func TestAcceptCreateMemory_auditsTheChannel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{context.Background(), events.ChannelAPI},
		{events.WithChannel(context.Background(), events.ChannelMCP), events.ChannelMCP},
	} {
		db := newFakeDB()
		h := command.NewAcceptCreateMemoryHandler(db, &fakeSender{}, nil, nil)
		if err := h.Handle(tc.ctx, acceptCreate(command.Acceptance{OperationID: "op-1", AppID: "app-1", RequestID: "req-1"})); err != nil {
			t.Fatal(err)
		}
		if e := db.auditsOf("op-1"); len(e) != 1 || e[0].Channel != tc.want {
			t.Errorf("audit = %+v, want one entry of channel %q", e, tc.want)
		}
	}
}

// A create accepted while an earlier write of its scope is pending queues
// nothing: the earlier write hands it the turn from its kept command. A
// create of another scope is queued as ever.
func TestAcceptCreateMemory_behindAPendingWriteQueuesNothing(t *testing.T) {
	t.Parallel()

	db, sender := newFakeDB(), &fakeSender{}
	h := command.NewAcceptCreateMemoryHandler(db, sender, nil, nil)
	ctx := context.Background()
	for _, a := range []command.Acceptance{
		{OperationID: "op-1", AppID: "app-1", EndUser: "user-1", RequestID: "req-1"},
		{OperationID: "op-2", AppID: "app-1", EndUser: "user-1", RequestID: "req-2"},
		{OperationID: "op-3", AppID: "app-1", EndUser: "user-2", RequestID: "req-3"},
	} {
		if err := h.Handle(ctx, acceptCreate(a)); err != nil {
			t.Fatalf("%s: %v", a.OperationID, err)
		}
	}
	var queued []string
	for _, c := range sender.commands() {
		queued = append(queued, c.(*events.CreateMemory).OperationID)
	}
	if !slices.Equal(queued, []string{"op-1", "op-3"}) {
		t.Fatalf("queued %v, want op-1 and op-3", queued)
	}
	if kept, _ := db.keptCommand("op-2").(*events.CreateMemory); kept == nil || kept.OperationID != "op-2" {
		t.Fatalf("op-2 keeps %#v, want its command for the hand-over", db.keptCommand("op-2"))
	}
}
