package redis_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// healingClient is a client with the hook NewSubscriber installs, logging to log.
func healingClient(t *testing.T, health *redis.ConsumerHealth, log *logBuffer) *goredis.Client {
	t.Helper()
	c := redistest.Client(t)
	c.AddHook(redis.NewGroupHook(health, slogTo(log), 50*time.Millisecond))
	return c
}

func groupExists(t *testing.T, c *goredis.Client, stream, group string) bool {
	t.Helper()
	groups, err := c.XInfoGroups(context.Background(), stream).Result()
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g.Name == group {
			return true
		}
	}
	return false
}

// The stream came back (a publisher wrote to it after Redis lost it) without
// the group: the read recreates the group at 0 and gets what was written.
func TestGroupHook_readRecreatesLostGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	var log logBuffer
	c := healingClient(t, nil, &log)
	plain := redistest.Client(t)

	if err := plain.XAdd(ctx, &goredis.XAddArgs{Stream: stream, ID: "1-0", Values: map[string]any{"payload": "lost"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := plain.XGroupCreate(ctx, stream, group, "$").Err(); err != nil {
		t.Fatal(err)
	}
	plain.Del(ctx, stream) // Redis lost the stream and its group
	if err := plain.XAdd(ctx, &goredis.XAddArgs{Stream: stream, ID: "2-0", Values: map[string]any{"payload": "new"}}).Err(); err != nil {
		t.Fatal(err)
	}

	read, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Count: 10, Block: -1}).Result()
	if err != nil {
		t.Fatalf("read after the group was lost: %v", err)
	}
	if len(read) != 1 || len(read[0].Messages) != 1 || read[0].Messages[0].ID != "2-0" {
		t.Fatalf("read %+v, want the entry written after the loss", read)
	}
	lines := strings.Count(log.String(), "level=WARN")
	if lines != 1 || !strings.Contains(log.String(), "stream="+stream) || !strings.Contains(log.String(), "group="+group) {
		t.Fatalf("log after one recreation:\n%s\nwant one warning naming stream and group", log.String())
	}

	// The group exists now: nothing more is recreated, nothing more logged.
	if _, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Block: -1}).Result(); err != goredis.Nil {
		t.Fatalf("second read = %v, want nothing to read", err)
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings after a read that found its group, want still 1", n)
	}
}

// Every command a subscriber sends with its group heals a lost stream and
// group, and then answers as on an empty stream.
func TestGroupHook_subscriberCommandsRecreateLostGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var log logBuffer
	c := healingClient(t, nil, &log)
	prefix := redistest.Prefix(t)

	tests := []struct {
		name string
		run  func(stream, group string) error
	}{
		{"xreadgroup", func(s, g string) error {
			err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: g, Consumer: "w", Streams: []string{s, ">"}, Block: 10 * time.Millisecond}).Err()
			if err == goredis.Nil {
				return nil
			}
			return err
		}},
		{"xpending summary", func(s, g string) error { return c.XPending(ctx, s, g).Err() }},
		{"xpending ext", func(s, g string) error {
			return c.XPendingExt(ctx, &goredis.XPendingExtArgs{Stream: s, Group: g, Start: "-", End: "+", Count: 10}).Err()
		}},
		{"xclaim", func(s, g string) error {
			return c.XClaim(ctx, &goredis.XClaimArgs{Stream: s, Group: g, Consumer: "w", Messages: []string{"1-0"}}).Err()
		}},
		{"xautoclaim", func(s, g string) error {
			return c.XAutoClaim(ctx, &goredis.XAutoClaimArgs{Stream: s, Group: g, Consumer: "w", Start: "0"}).Err()
		}},
		{"xinfo consumers", func(s, g string) error { return c.XInfoConsumers(ctx, s, g).Err() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, group := prefix+"."+tt.name, prefix+".group"
			if err := tt.run(stream, group); err != nil {
				t.Fatalf("%s on a lost stream: %v", tt.name, err)
			}
			if !groupExists(t, c, stream, group) {
				t.Fatalf("%s did not recreate group %s on %s", tt.name, group, stream)
			}
		})
	}
}

// Only a missing group is healed: other errors and other commands are left
// alone, and the group is created once when many consumers find it missing.
func TestGroupHook_leavesOtherErrorsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	var log logBuffer
	c := healingClient(t, nil, &log)

	notAStream := prefix + ".string"
	if err := c.Set(ctx, notAStream, "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "g", Consumer: "w", Streams: []string{notAStream, ">"}, Block: -1}).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("read of a string = %v, want WRONGTYPE untouched", err)
	}
	if err := c.XGroupDelConsumer(ctx, prefix+".missing", "g", "w").Err(); err == nil {
		t.Fatal("XGROUP DELCONSUMER on a missing stream succeeded: the hook must not heal it")
	}
	if n, _ := c.Exists(ctx, prefix+".missing").Result(); n != 0 {
		t.Fatal("a command other than a subscriber's created the stream")
	}

	stream, group := prefix+".shared", prefix+".group"
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := c.XPending(ctx, stream, group).Err(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for one group found missing by 8 consumers at once, want 1:\n%s", n, log.String())
	}
}

// A read blocked on the stream when Redis loses it (FLUSHALL) is woken with
// UNBLOCKED, not NOGROUP: it heals too, and waits on for the next entry.
func TestGroupHook_blockedReadOutlivesTheStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	var log logBuffer
	h := redis.NewConsumerHealth(time.Nanosecond)
	opts, err := goredis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.ClientName = prefix // to find its blocked connection
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	c.AddHook(redis.NewGroupHook(h, slogTo(&log), 50*time.Millisecond))
	plain := redistest.Client(t)
	if err := plain.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}

	type result struct {
		read []goredis.XStream
		err  error
	}
	done := make(chan result, 1)
	go func() {
		read, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Block: 10 * time.Second}).Result()
		done <- result{read, err}
	}()
	eventually(t, 5*time.Second, "the read is blocked", func() (bool, any) {
		clients, err := plain.ClientList(ctx).Result()
		for _, line := range strings.Split(clients, "\n") {
			if strings.Contains(line, " name="+prefix+" ") && strings.Contains(line, " flags=b ") {
				return true, line
			}
		}
		return false, err
	})
	if err := plain.Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := plain.XAdd(ctx, &goredis.XAddArgs{Stream: stream, ID: "5-0", Values: map[string]any{"payload": "after"}}).Err(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.read) != 1 || len(r.read[0].Messages) != 1 || r.read[0].Messages[0].ID != "5-0" {
		t.Fatalf("blocked read across the loss: %+v, %v; want the entry written after it", r.read, r.err)
	}
	if err := h.Check(); err != nil {
		t.Fatalf("a read that healed counts as failing: %v", err)
	}
}
