package redis_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

func TestCommandQueueIsIdleOnlyWhenEverythingWasAcknowledged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := redistest.Client(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	q := redis.NewCommandQueues(client, topics)
	stream, group := topics.Command("CreateMemory"), topics.ConsumerGroup("CreateMemory")
	idle := func(want bool, when string) {
		t.Helper()
		got, err := q.Idle(ctx, "CreateMemory")
		if err != nil || got != want {
			t.Fatalf("%s: idle %v (%v), want %v", when, got, err, want)
		}
	}

	idle(true, "no stream at all (lost, or never used)")
	if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: map[string]any{"payload": "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
	idle(false, "an entry and no worker group yet")
	if err := client.XGroupCreate(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	idle(false, "an entry not delivered yet")
	read, err := client.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "w", Streams: []string{stream, ">"}, Count: 1}).Result()
	if err != nil {
		t.Fatal(err)
	}
	idle(false, "an entry delivered, not acknowledged")
	if err := client.XAck(ctx, stream, group, read[0].Messages[0].ID).Err(); err != nil {
		t.Fatal(err)
	}
	idle(true, "every entry acknowledged")
}
