package command_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// fakeQueues: a stream idle or not, and the entries still on their way.
type fakeQueues struct {
	idle bool
	live map[string]bool
}

func (q *fakeQueues) Idle(context.Context, string) (bool, error) { return q.idle, nil }

func (q *fakeQueues) OnItsWay(_ context.Context, _, entry string) (bool, error) {
	return q.live[entry], nil
}

func TestLostCommandsResendsOnlyStalledOperationsOfIdleStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, sender, queues := newFakeDB(), &fakeSender{}, &fakeQueues{}
	hourAgo := time.Now().Add(-time.Hour)
	for _, id := range []string{"stalled", "finished"} {
		op, _ := operation.New(id, "app-1", "", operation.KindCreateMemory, hourAgo)
		if id == "finished" {
			if err := op.Succeed([]string{"m-1"}, hourAgo); err != nil {
				t.Fatal(err)
			}
		}
		err := db.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			return tx.InsertOperation(ctx, op, &events.CreateMemory{Header: events.Header{OperationID: id, AppID: "app-1"}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lost := command.NewResendLostCommandsHandler(db, sender, queues, nil, nil)

	// A stream with work in it may still carry the command: never resend then.
	if n, err := lost.Handle(ctx, command.ResendLostCommands{StalledFor: time.Minute}); err != nil || n != 0 || len(sender.sent) != 0 {
		t.Fatalf("busy stream: resent %d (%v), sent %v", n, err, sender.sent)
	}
	// Looked at once, it waits its turn again (a short stall here).
	queues.idle = true
	if n, err := lost.Handle(ctx, command.ResendLostCommands{StalledFor: time.Nanosecond}); err != nil || n != 1 {
		t.Fatalf("idle stream: resent %d (%v), want the stalled operation's command", n, err)
	}
	if c, ok := sender.sent[0].(*events.CreateMemory); !ok || c.OperationID != "stalled" {
		t.Fatalf("sent %#v", sender.sent[0])
	}
	// Resent just now: not again until it stalls for as long once more.
	if n, err := lost.Handle(ctx, command.ResendLostCommands{StalledFor: time.Minute}); err != nil || n != 0 {
		t.Fatalf("right after a resend: resent %d (%v)", n, err)
	}
}

// A command whose stream entry is known is looked up in its stream: one gone
// from it is resent while the stream is busy with others, one still there
// (queued or held) is not.
func TestLostCommandsResendsWhileTheStreamIsBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, sender := newFakeDB(), &fakeSender{}
	queues := &fakeQueues{idle: false, live: map[string]bool{"5-0": true}}
	hourAgo := time.Now().Add(-time.Hour)
	for id, entry := range map[string]string{"gone": "4-0", "queued": "5-0"} {
		op, _ := operation.New(id, "app-"+id, "", operation.KindCreateMemory, hourAgo)
		err := db.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			return tx.InsertOperation(ctx, op, &events.CreateMemory{Header: events.Header{OperationID: id, AppID: "app-" + id}})
		})
		if err != nil {
			t.Fatal(err)
		}
		db.setEntry(id, entry)
	}
	n, err := command.NewResendLostCommandsHandler(db, sender, queues, nil, nil).Handle(ctx, command.ResendLostCommands{StalledFor: time.Minute})
	if err != nil || n != 1 {
		t.Fatalf("resent %d (%v), want the one gone from its stream", n, err)
	}
	if c, ok := sender.sent[0].(*events.CreateMemory); !ok || c.OperationID != "gone" {
		t.Fatalf("sent %#v", sender.sent[0])
	}
}
