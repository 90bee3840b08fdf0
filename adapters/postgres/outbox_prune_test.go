package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Pruning removes relayed rows only: a row the forwarder has not relayed yet
// stays, however old.
func TestPruneOutboxKeepsUnrelayedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	tr := postgres.NewTransactor(pool, postgres.NewOutbox(topics, events.Marshaler, nil))
	publish := func(op string) {
		t.Helper()
		if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			return tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: op})
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, op := range []string{"a", "b", "c"} {
		publish(op)
	}

	stopForwarder := runForwarder(t, ctx, pool, topics, 10*time.Millisecond)
	rdb := redistest.Client(t)
	deadline := time.Now().Add(20 * time.Second)
	for n, _ := rdb.XLen(ctx, topics.Event("MemoryCreated")).Result(); n < 3; n, _ = rdb.XLen(ctx, topics.Event("MemoryCreated")).Result() {
		if time.Now().After(deadline) {
			t.Fatalf("relayed %d of 3", n)
		}
		time.Sleep(20 * time.Millisecond) // polling the stream
	}
	waitOutboxAcknowledged(t, ctx, pool, 3)
	stopForwarder()

	publish("d") // committed after the forwarder stopped: not relayed
	if n, err := postgres.PruneOutbox(ctx, pool, time.Hour); err != nil || n != 0 {
		t.Fatalf("a retention of an hour pruned %d fresh rows (%v)", n, err)
	}
	n, err := postgres.PruneOutbox(ctx, pool, 0)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d rows (%v), want the 3 relayed ones", n, err)
	}
	if left := count(t, pool, "custom_gpt_outbox"); left != 1 {
		t.Fatalf("%d rows left, want the unrelayed one", left)
	}
}
