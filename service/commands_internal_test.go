package service

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Commands handed over faster than they are queued go in batches, each on
// its stream once, and Close queues what still waits before it returns.
func TestCommandQueueSendsEverythingByClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	rdb := redistest.Client(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	q := newCommandQueue(redis.NewCommandBus(redis.NewCommandPublisher(rdb), topics, events.Marshaler),
		postgres.NewCommandEntries(pool), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	const n = 3*commandBatch + 17
	for i := range n {
		cmd := &events.DeleteMemory{Header: events.Header{Version: events.Version, OperationID: fmt.Sprintf("op-%d", i), AppID: "app-1"},
			MemoryID: fmt.Sprintf("m-%d", i)}
		if err := q.Send(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	stream := topics.Command("DeleteMemory")
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(entries) != n {
		t.Fatalf("%d entries on %s (%v), want %d", len(entries), stream, err, n)
	}
	// After Close, a command is queued before Send returns.
	if err := q.Send(ctx, &events.DeleteMemory{Header: events.Header{Version: events.Version, OperationID: "late"}, MemoryID: "m"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := rdb.XLen(ctx, stream).Result(); got != n+1 {
		t.Fatalf("a command sent after Close: %d entries, want %d", got, n+1)
	}
}
