package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Events committed concurrently, in transactions that overlap and commit out of
// order, all reach their stream exactly as committed; rolled back ones never do.
func TestForwarderRelaysCommittedEventsOnly(t *testing.T) {
	t.Parallel()
	ctx, pool, topics, tr := newOutboxFixture(t)

	const committed = 40
	var wg sync.WaitGroup
	for i := range committed * 2 {
		wg.Go(func() {
			ctx := events.WithCorrelationID(ctx, fmt.Sprintf("req-%d", i))
			err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
				if err := tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: fmt.Sprintf("op-%d", i)}); err != nil {
					return err
				}
				if i%2 == 1 {
					return errors.New("roll back")
				}
				return nil
			})
			if (err == nil) != (i%2 == 0) {
				t.Errorf("tx %d: %v", i, err)
			}
		})
	}
	wg.Wait()

	runForwarder(t, ctx, pool, topics, 10*time.Millisecond)

	rdb := redistest.Client(t)
	stream := topics.Event("MemoryCreated")
	deadline := time.Now().Add(20 * time.Second)
	var n int64
	for time.Now().Before(deadline) {
		if n, _ = rdb.XLen(ctx, stream).Result(); n >= committed {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the stream, not waiting for an effect
	}
	if n != committed {
		t.Fatalf("stream %s has %d entries, want %d", stream, n, committed)
	}
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		var ev events.MemoryCreated
		if err := json.Unmarshal([]byte(e.Values["payload"].(string)), &ev); err != nil {
			t.Fatalf("payload: %v", err)
		}
		var meta map[string]string
		_ = json.Unmarshal([]byte(e.Values["metadata"].(string)), &meta)
		var i int
		fmt.Sscanf(ev.OperationID, "op-%d", &i)
		if i%2 == 1 {
			t.Fatalf("rolled back event %s was relayed", ev.OperationID)
		}
		if got := meta[middleware.CorrelationIDMetadataKey]; got != fmt.Sprintf("req-%d", i) {
			t.Fatalf("event %s has correlation id %q", ev.OperationID, got)
		}
		if meta["name"] != "MemoryCreated" {
			t.Fatalf("event name metadata %q", meta["name"])
		}
		// The CloudEvent attributes set at publish time survive the relay.
		if meta[events.CEID] != e.Values["_watermill_message_uuid"] || meta[events.CEType] != "custom_gpt.memory.created" ||
			meta[events.CESource] != topics.Source() || meta[events.CESubject] != "operations/"+ev.OperationID ||
			meta[events.CESpecVersion] != "1.0" || meta[events.CEDataContentType] != "application/json" {
			t.Fatalf("event %s has CloudEvent attributes %v", ev.OperationID, meta)
		}
		seen[ev.OperationID] = true
	}
	if len(seen) != committed {
		t.Fatalf("relayed %d distinct events, want %d", len(seen), committed)
	}
}

// A transaction's several events of one stream are one outbox row, and reach
// the stream as entries of their own, in order, each with its own id and
// metadata; another stream's event in the same transaction keeps its own row.
func TestForwarderRelaysABundleAsItsEvents(t *testing.T) {
	t.Parallel()
	ctx, pool, topics, tr := newOutboxFixture(t)
	const created = 25
	err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		for i := range created {
			ctx := events.WithCorrelationID(ctx, fmt.Sprintf("req-%d", i))
			if err := tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: fmt.Sprintf("op-%d", i)}); err != nil {
				return err
			}
		}
		return tx.Publish(ctx, &events.MemoryDeleted{Version: 1, OperationID: "op-deleted"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_outbox`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d outbox rows for two streams' events; want 2", rows)
	}

	runForwarder(t, ctx, pool, topics, 10*time.Millisecond)
	waitOutboxAcknowledged(t, ctx, pool, rows)

	rdb := redistest.Client(t)
	entries, err := rdb.XRange(ctx, topics.Event("MemoryCreated"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != created {
		t.Fatalf("%d entries, want %d", len(entries), created)
	}
	ids := map[string]bool{}
	for i, e := range entries {
		var ev events.MemoryCreated
		if err := json.Unmarshal([]byte(e.Values["payload"].(string)), &ev); err != nil {
			t.Fatal(err)
		}
		var meta map[string]string
		if err := json.Unmarshal([]byte(e.Values["metadata"].(string)), &meta); err != nil {
			t.Fatal(err)
		}
		if ev.OperationID != fmt.Sprintf("op-%d", i) {
			t.Errorf("entry %d is %s: out of order", i, ev.OperationID)
		}
		if meta[middleware.CorrelationIDMetadataKey] != fmt.Sprintf("req-%d", i) || meta[events.CEID] != e.Values["_watermill_message_uuid"] {
			t.Errorf("entry %d has metadata %v", i, meta)
		}
		ids[meta[events.CEID]] = true
	}
	if len(ids) != created {
		t.Errorf("%d distinct event ids among %d entries", len(ids), created)
	}
	if n, err := rdb.XLen(ctx, topics.Event("MemoryDeleted")).Result(); err != nil || n != 1 {
		t.Errorf("the other stream has %d entries (%v); want 1", n, err)
	}
}

// newOutboxFixture is a database of the test's own, a stream prefix of its
// own and a transactor writing events to the outbox; ctx ends with the test.
func newOutboxFixture(t *testing.T) (context.Context, *pgxpool.Pool, events.Topics, *postgres.Transactor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool, _ := pgtest.NewPool(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	return ctx, pool, topics, postgres.NewTransactor(pool, postgres.NewOutbox(topics, events.Marshaler, nil))
}

// runForwarder relays pool's outbox to the test Redis, polling every poll,
// until the returned stop is called or the test ends; stop waits for it.
func runForwarder(t *testing.T, ctx context.Context, pool *pgxpool.Pool, topics events.Topics, poll time.Duration) (stop func()) {
	t.Helper()
	opts, _ := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	pub, err := redis.NewBatchPublisher(opts, 0, nil) // the worker's
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := postgres.NewForwarder(pool, pub, topics, postgres.ForwarderConfig{PollInterval: poll}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- fwd.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// waitOutboxAcknowledged waits until the forwarder has acknowledged want
// outbox rows in Postgres. The stream shows a message before the forwarder
// acknowledges its offset, and a message sent again would be sent before the
// acknowledgement too: once it is in, the stream holds all it will.
func waitOutboxAcknowledged(t *testing.T, ctx context.Context, pool *pgxpool.Pool, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for acked := 0; acked < want; {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_outbox o, custom_gpt_outbox_offsets f
			WHERE f.consumer_group = 'forwarder' AND (o.transaction_id < f.last_processed_transaction_id
			  OR (o.transaction_id = f.last_processed_transaction_id AND o."offset" <= f.offset_acked))`).Scan(&acked); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forwarder acknowledged %d of %d outbox rows", acked, want)
		}
		time.Sleep(20 * time.Millisecond) // polling the offsets row
	}
}
