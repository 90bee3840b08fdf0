package redis_test

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

func newCommand(uuid string) *message.Message {
	msg := message.NewMessage(uuid, []byte(`{"operation_id":"op-1","content":"remember this"}`))
	msg.Metadata.Set("name", "CreateMemory")
	msg.Metadata.Set("correlation_id", "corr-1")
	return msg
}

// The entry is the one Watermill's publisher writes with our Marshaller, and
// its id is the one Redis gave it.
func TestCommandPublisher_writesWhatWatermillWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	stream := redistest.Prefix(t) + ".commands.CreateMemory"
	opts, err := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	wm, err := redis.NewPublisher(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wm.Close()

	msg := newCommand("3f1e0c4a-command")
	if err := wm.Publish(stream, msg); err != nil {
		t.Fatal(err)
	}
	id, err := redis.NewCommandPublisher(c).Publish(ctx, stream, msg)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("stream holds %v, %v; want the two entries", entries, err)
	}
	theirs, ours := entries[0], entries[1]
	if ours.ID != id {
		t.Errorf("Publish returned %s, the entry is %s", id, ours.ID)
	}
	if len(ours.Values) != len(theirs.Values) {
		t.Errorf("fields %v, Watermill writes %v", ours.Values, theirs.Values)
	}
	for k, v := range theirs.Values {
		if ours.Values[k] != v {
			t.Errorf("field %s = %v, Watermill writes %v", k, ours.Values[k], v)
		}
	}
	got, err := redis.Marshaller{}.Unmarshal(ours.Values)
	if err != nil || got.UUID != msg.UUID || string(got.Payload) != string(msg.Payload) || got.Metadata.Get("correlation_id") != "corr-1" {
		t.Fatalf("entry reads back as %+v, %v", got, err)
	}
}

// An entry is queued until its group is given it, in flight until
// acknowledged, then gone; gone too once trimmed, or never there.
func TestCommandPublisher_entryStateFollowsTheEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	p := redis.NewCommandPublisher(c)
	state := func(id string, want redis.DeliveryState, when string) {
		t.Helper()
		got, err := p.EntryState(ctx, stream, group, id)
		if err != nil || got != want {
			t.Fatalf("%s: %s is %v (%v), want %v", when, id, got, err, want)
		}
	}
	deliver := func() string {
		t.Helper()
		read, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Count: 1, Block: -1}).Result()
		if err != nil {
			t.Fatal(err)
		}
		return read[0].Messages[0].ID
	}

	state("1-0", redis.EntryGone, "no stream")
	first, err := p.Publish(ctx, stream, newCommand("first"))
	if err != nil {
		t.Fatal(err)
	}
	state(first, redis.EntryQueued, "no group yet")
	if n, _ := c.Exists(ctx, stream).Result(); n != 1 {
		t.Fatal("EntryState created or deleted the stream")
	}
	if groups, _ := c.XInfoGroups(ctx, stream).Result(); len(groups) != 0 {
		t.Fatalf("EntryState created a group: %v", groups)
	}
	if err := c.XGroupCreate(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	second, err := p.Publish(ctx, stream, newCommand("second"))
	if err != nil {
		t.Fatal(err)
	}
	state(first, redis.EntryQueued, "group created, nothing delivered")

	if got := deliver(); got != first {
		t.Fatalf("delivered %s, want %s", got, first)
	}
	state(first, redis.EntryInFlight, "delivered")
	state(second, redis.EntryQueued, "after the one delivered")
	if err := c.XAck(ctx, stream, group, first).Err(); err != nil {
		t.Fatal(err)
	}
	state(first, redis.EntryGone, "acknowledged")

	if n, err := redis.TrimAcknowledged(ctx, c, stream); n != 1 || err != nil {
		t.Fatalf("trim = %d, %v; want the acknowledged entry", n, err)
	}
	state(first, redis.EntryGone, "trimmed")
	state(second, redis.EntryQueued, "after a trim")

	if err := c.XGroupCreate(ctx, stream, prefix+".Late", "$").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := p.EntryState(ctx, stream, prefix+".Late", second); got != redis.EntryGone || err != nil {
		t.Fatalf("entry before a group created at $: %v (%v), want gone: that group never reads it", got, err)
	}

	if err := c.Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	state(second, redis.EntryGone, "stream lost")
	if _, err := p.EntryState(ctx, stream, group, "not-an-id"); err == nil {
		t.Fatal("a malformed id was accepted")
	}
}
