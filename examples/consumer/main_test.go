package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	redisadapter "github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// The example prints, as CloudEvents, the events the service publishes through
// its outbox and forwarder; it acknowledges them; after a restart it first
// prints what it was given but never acknowledged; a new group at "$" sees only
// later events.
func TestConsumerPrintsCloudEvents(t *testing.T) {
	t.Parallel()
	p := newPublisher(t)
	stream := p.topics.Event("MemoryCreated")
	p.publish("op-1", "op-2")
	rdb := redistest.Client(t)
	entries := waitEntries(t, rdb, stream, 2)

	// A group from the beginning prints both, in order, and acknowledges them.
	got := consume(t, 2, "-stream", stream, "-group", "from-start", "-consumer", "c1", "-start", "0")
	for i, ev := range got {
		op := fmt.Sprintf("op-%d", i+1)
		checkEvent(t, ev, entries[i].Values["_watermill_message_uuid"].(string), p.topics.Source(), op)
	}
	if n := pending(t, rdb, stream, "from-start"); n != 0 {
		t.Errorf("%d entries left unacknowledged", n)
	}

	// A consumer that was given an entry and died before acknowledging it gets
	// it again first when it comes back, then the rest.
	ctx := context.Background()
	if err := rdb.XGroupCreate(ctx, stream, "restarted", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "restarted", Consumer: "c2", Streams: []string{stream, ">"}, Count: 1}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, rdb, stream, "restarted"); n != 1 {
		t.Fatalf("%d pending before the restart, want 1", n)
	}
	got = consume(t, 2, "-stream", stream, "-group", "restarted", "-consumer", "c2")
	if got[0]["id"] != entries[0].Values["_watermill_message_uuid"] || got[1]["id"] != entries[1].Values["_watermill_message_uuid"] {
		t.Errorf("after the restart printed %v then %v, want the pending entry first", got[0]["id"], got[1]["id"])
	}
	if n := pending(t, rdb, stream, "restarted"); n != 0 {
		t.Errorf("%d entries left unacknowledged after the restart", n)
	}

	// A new group at "$" skips what the stream holds and prints what comes next.
	out := &lockedBuffer{}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, args("-stream", stream, "-group", "from-now", "-consumer", "c3", "-start", "$"), out, io.Discard)
	}()
	poll(t, "the group from-now exists", func() bool {
		groups, _ := rdb.XInfoGroups(ctx, stream).Result()
		for _, g := range groups {
			if g.Name == "from-now" {
				return true
			}
		}
		return false
	})
	p.publish("op-3")
	poll(t, "the consumer prints op-3", func() bool { return len(out.events(t)) >= 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if evs := out.events(t); len(evs) != 1 || evs[0]["subject"] != "operations/op-3" {
		t.Fatalf("a group at $ printed %v", evs)
	}
}

// An entry that is no CloudEvent is reported, acknowledged and skipped.
func TestConsumerSkipsUnreadableEntries(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	stream := redistest.Prefix(t) + ".events.MemoryCreated"
	ctx := context.Background()
	for _, v := range []map[string]any{
		{"payload": "not json", "metadata": "{}"},
		{"payload": "{}", "metadata": `{"name":"MemoryCreated"}`},
		{"payload": `{"version":1}`, "metadata": `{"ce_specversion":"1.0","ce_id":"x","ce_source":"urn:s","ce_type":"t"}`},
	} {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := consume(t, 1, "-stream", stream, "-group", "g", "-start", "0")
	if got[0]["id"] != "x" || got[0]["data"].(map[string]any)["version"] != float64(1) {
		t.Fatalf("printed %v", got[0])
	}
	if n := pending(t, rdb, stream, "g"); n != 0 {
		t.Errorf("%d unreadable entries left pending", n)
	}
}

func checkEvent(t *testing.T, ev map[string]any, uuid, source, op string) {
	t.Helper()
	want := map[string]string{
		"specversion": "1.0", "id": uuid, "source": source, "type": "custom_gpt.memory.created",
		"subject": "operations/" + op, "datacontenttype": "application/json",
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s: %s = %v, want %q", op, k, ev[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(ev["time"])); err != nil {
		t.Errorf("%s: time %v: %v", op, ev["time"], err)
	}
	data, _ := ev["data"].(map[string]any)
	if data["operation_id"] != op || data["version"] != float64(1) {
		t.Errorf("%s: data %v", op, ev["data"])
	}
}

// consume runs the example until it has printed n events, and returns them.
func consume(t *testing.T, n int, flags ...string) []map[string]any {
	t.Helper()
	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args(flags...), out, io.Discard) }()
	poll(t, fmt.Sprintf("%d events are printed", n), func() bool { return len(out.events(t)) >= n })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	evs := out.events(t)
	if len(evs) != n {
		t.Fatalf("printed %d events, want %d", len(evs), n)
	}
	return evs
}

func args(flags ...string) []string {
	return append([]string{"-redis", redistest.URL(), "-block", "100ms"}, flags...)
}

func pending(t *testing.T, rdb *redis.Client, stream, group string) int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

func waitEntries(t *testing.T, rdb *redis.Client, stream string, n int) []redis.XMessage {
	t.Helper()
	var entries []redis.XMessage
	poll(t, fmt.Sprintf("%d entries on %s", n, stream), func() bool {
		entries, _ = rdb.XRange(context.Background(), stream, "-", "+").Result()
		return len(entries) >= n
	})
	return entries
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publisher publishes events as the service does: in a transaction, to the
// outbox, relayed to Redis by the forwarder.
type publisher struct {
	t      *testing.T
	topics events.Topics
	tx     *postgres.Transactor
}

func newPublisher(t *testing.T) *publisher {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	opts, _ := redisadapter.ParseURL(redistest.URL(), redisadapter.ModeSingle)
	pub, err := redisadapter.NewPublisher(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := postgres.NewForwarder(pool, pub, topics, postgres.ForwarderConfig{PollInterval: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fwd.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = pub.Close() })
	return &publisher{t: t, topics: topics, tx: postgres.NewTransactor(pool, postgres.NewOutbox(topics, events.Marshaler, nil))}
}

func (p *publisher) publish(ops ...string) {
	p.t.Helper()
	for _, op := range ops {
		ctx := events.WithCorrelationID(context.Background(), "req-"+op)
		err := p.tx.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			return tx.Publish(ctx, &events.MemoryCreated{
				Version: events.Version, OperationID: op, AppID: "app-1", MemoryIDs: []string{"mem-" + op},
				RequestID: "req-" + op, OccurredAt: time.Now().UTC(),
			})
		})
		if err != nil {
			p.t.Fatal(err)
		}
	}
}

// lockedBuffer collects what the example prints while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// events parses the complete lines printed so far.
func (b *lockedBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	text := b.buf.String()
	b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(text) {
		if !strings.HasSuffix(line, "\n") {
			break
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("printed a line that is not JSON: %q", line)
		}
		out = append(out, ev)
	}
	return out
}
