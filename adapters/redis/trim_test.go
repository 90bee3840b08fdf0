package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// streamFixture is a stream with entries 1-0 … n-0 on the shared Redis.
type streamFixture struct {
	t      *testing.T
	c      *goredis.Client
	stream string
}

func newStreamFixture(t *testing.T, entries int) *streamFixture {
	t.Helper()
	f := &streamFixture{t: t, c: redistest.Client(t), stream: redistest.Prefix(t) + ".commands.CreateMemory"}
	for i := 1; i <= entries; i++ {
		f.add(fmt.Sprintf("%d-0", i))
	}
	return f
}

func (f *streamFixture) add(id string) {
	f.t.Helper()
	if err := f.c.XAdd(context.Background(), &goredis.XAddArgs{Stream: f.stream, ID: id, Values: map[string]any{"payload": id}}).Err(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *streamFixture) group(name, start string) {
	f.t.Helper()
	if err := f.c.XGroupCreate(context.Background(), f.stream, name, start).Err(); err != nil {
		f.t.Fatal(err)
	}
}

// deliver gives the group's consumer its next n entries, returning their ids.
func (f *streamFixture) deliver(group string, n int64) []string {
	f.t.Helper()
	read, err := f.c.XReadGroup(context.Background(), &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{f.stream, ">"}, Count: n, Block: -1}).Result()
	if err != nil {
		f.t.Fatalf("deliver %d to %s: %v", n, group, err)
	}
	var ids []string
	for _, m := range read[0].Messages {
		ids = append(ids, m.ID)
	}
	return ids
}

func (f *streamFixture) ack(group string, ids ...string) {
	f.t.Helper()
	if err := f.c.XAck(context.Background(), f.stream, group, ids...).Err(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *streamFixture) ids() []string {
	f.t.Helper()
	entries, err := f.c.XRange(context.Background(), f.stream, "-", "+").Result()
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func (f *streamFixture) trim(wantTrimmed int64, wantLeft ...string) {
	f.t.Helper()
	n, err := redis.TrimAcknowledged(context.Background(), f.c, f.stream)
	if err != nil || n != wantTrimmed {
		f.t.Fatalf("trim = %d, %v; want %d", n, err, wantTrimmed)
	}
	if left := f.ids(); !slices.Equal(left, wantLeft) {
		f.t.Fatalf("left after trim: %v, want %v", left, wantLeft)
	}
}

// Two groups at different positions: an entry goes once both have received
// and acknowledged it; pending and undelivered entries stay.
func TestTrimAcknowledged_keepsWhatAnyGroupStillNeeds(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t, 6)
	f.group("workers", "0")
	f.group("auditors", "0")

	f.ack("workers", f.deliver("workers", 4)[:2]...) // 1,2 acked; 3,4 pending
	f.ack("auditors", f.deliver("auditors", 2)...)   // 1,2 acked; 3… undelivered
	f.trim(2, "3-0", "4-0", "5-0", "6-0")

	f.ack("auditors", f.deliver("auditors", 3)...) // auditors: up to 5 acked
	f.ack("workers", "3-0")                        // workers: 4 pending, 5 and 6 undelivered
	f.trim(1, "4-0", "5-0", "6-0")

	// A pending entry holds back everything after it, even what is acked.
	f.ack("workers", f.deliver("workers", 2)...) // workers: 4 pending, 5 and 6 acked
	f.ack("auditors", f.deliver("auditors", 1)...)
	f.trim(0, "4-0", "5-0", "6-0")

	f.ack("workers", "4-0")
	f.trim(3)
	f.add("7-0")
	f.trim(0, "7-0")
}

// Ids compare as numbers: 10-0 comes after 9-0, though not as strings.
func TestTrimAcknowledged_comparesIdsAsNumbers(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t, 10)
	f.group("workers", "0")
	f.group("auditors", "0")
	f.ack("workers", f.deliver("workers", 10)...)
	f.ack("auditors", f.deliver("auditors", 9)...) // 10 undelivered
	f.trim(9, "10-0")
}

func TestTrimAcknowledged_edges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.Client(t)
	if n, err := redis.TrimAcknowledged(ctx, c, redistest.Prefix(t)+".missing"); n != 0 || err != nil {
		t.Fatalf("missing stream: %d, %v; want 0, nil", n, err)
	}

	t.Run("no group: nobody has read it yet", func(t *testing.T) {
		f := newStreamFixture(t, 3)
		f.trim(0, "1-0", "2-0", "3-0")
	})
	t.Run("a group that has received nothing", func(t *testing.T) {
		f := newStreamFixture(t, 3)
		f.group("workers", "0")
		f.group("auditors", "0")
		f.ack("workers", f.deliver("workers", 3)...)
		f.trim(0, "1-0", "2-0", "3-0")
	})
	t.Run("a group created at the end skips what came before it", func(t *testing.T) {
		f := newStreamFixture(t, 3)
		f.group("workers", "$")
		f.trim(3)
	})
	t.Run("not a stream", func(t *testing.T) {
		key := redistest.Prefix(t) + ".string"
		if err := c.Set(ctx, key, "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := redis.TrimAcknowledged(ctx, c, key); err == nil {
			t.Fatal("trimming a string succeeded")
		}
	})
}
