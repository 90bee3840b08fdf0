package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// readOnce is one read of a subscriber's: a timeout with nothing to read is
// no error.
func readOnce(ctx context.Context, c *goredis.Client, stream, group, consumer string) error {
	err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Block: 10 * time.Millisecond}).Err()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}

// breakStream turns stream into a string, so that reads of it fail.
func breakStream(t *testing.T, stream string) {
	t.Helper()
	c := redistest.Client(t)
	if err := c.Del(context.Background(), stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(context.Background(), stream, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestConsumerHealth_failingReadsAreReportedAfterTheGraceUntilOneSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	patient, strict := redis.NewConsumerHealth(time.Hour), redis.NewConsumerHealth(50*time.Millisecond)
	var log logBuffer
	a, b := healingClient(t, patient, &log), healingClient(t, strict, &log)

	for _, c := range []*goredis.Client{a, b} {
		if err := readOnce(ctx, c, stream, group, "w1"); err != nil {
			t.Fatalf("first read (creates the group): %v", err)
		}
	}
	if err := strict.Check(); err != nil {
		t.Fatalf("healthy after a read that found nothing: %v", err)
	}

	breakStream(t, stream)
	for _, c := range []*goredis.Client{a, b} {
		for _, consumer := range []string{"w2", "w1"} {
			if err := readOnce(ctx, c, stream, group, consumer); err == nil {
				t.Fatal("read of a string succeeded")
			}
		}
	}
	if err := patient.Check(); err != nil {
		t.Fatalf("failing for less than the grace, yet reported: %v", err)
	}
	// w2 failed first: for a moment (longer on a busy machine) only it is
	// past the grace, so wait until both are.
	var w1, w2 int
	var msg string
	eventually(t, 5*time.Second, "both failing consumers are reported", func() (bool, any) {
		report := strict.Check()
		if report == nil {
			return false, nil
		}
		msg = report.Error()
		w1, w2 = strings.Index(msg, "consumer w1 of group "+group+" cannot read stream "+stream),
			strings.Index(msg, "consumer w2 of group "+group+" cannot read stream "+stream)
		return w1 >= 0 && w2 >= 0, msg
	})
	if w2 < w1 || !strings.Contains(msg, "WRONGTYPE") {
		t.Fatalf("report %q: want both consumers, by name and in order, with the error", msg)
	}

	// The stream is lost again, so the hook recreates it: w1 reads, w2 does not yet.
	if err := redistest.Client(t).Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := readOnce(ctx, b, stream, group, "w1"); err != nil {
		t.Fatalf("read after the stream was lost: %v", err)
	}
	report := strict.Check()
	if report == nil || strings.Contains(report.Error(), "consumer w1 ") || !strings.Contains(report.Error(), "consumer w2 ") {
		t.Fatalf("after w1 read again: %v; want only w2 reported", report)
	}
	if err := readOnce(ctx, b, stream, group, "w2"); err != nil {
		t.Fatal(err)
	}
	if err := strict.Check(); err != nil {
		t.Fatalf("every consumer read again, yet: %v", err)
	}
}

// A read that its own caller cancelled says nothing about Redis.
func TestConsumerHealth_ignoresReadsCancelledByTheirCaller(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	h := redis.NewConsumerHealth(time.Nanosecond)
	var log logBuffer
	c := healingClient(t, h, &log)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := readOnce(ctx, c, prefix+".s", prefix+".g", "w"); err == nil {
		t.Fatal("a read with a cancelled context succeeded")
	}
	if err := h.Check(); err != nil {
		t.Fatalf("a cancelled read made the consumer unhealthy: %v", err)
	}
}

// A closed subscriber reads no more: it is no longer reported, whatever its
// last read was.
func TestConsumerHealth_forgetsAClosedSubscriber(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	stream, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	opts, err := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	h := redis.NewConsumerHealth(50 * time.Millisecond)
	var log logBuffer
	sub := newTestSubscriber(t, opts, group, h, &log)
	msgs, err := sub.Subscribe(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range msgs {
			m.Ack()
		}
	}()

	breakStream(t, stream)
	eventually(t, 10*time.Second, "the subscriber's failing reads are reported", func() (bool, any) {
		err := h.Check()
		return err != nil, err
	})
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Check(); err != nil {
		t.Fatalf("closed subscriber still reported: %v", err)
	}
}

// newTestSubscriber builds a subscriber with NewSubscriber, closed at cleanup.
func newTestSubscriber(t *testing.T, opts *redis.Options, group string, h *redis.ConsumerHealth, log *logBuffer) message.Subscriber {
	t.Helper()
	sub, err := redis.NewSubscriber(opts, redis.SubscriberConfig{
		ConsumerGroup: group,
		Consumer:      "worker-1",
		ClaimIdle:     time.Second,
		Health:        h,
		Log:           slogTo(log),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}
