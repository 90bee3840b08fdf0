package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Two processes' budgets on one key share it: what one takes, the other waits for.
func TestBudget_sharedAndWaits(t *testing.T) {
	t.Parallel()
	prefix := newLimiterPrefix(t)
	lim := redis.Limit{Rate: 20, Period: time.Second, Burst: 1}
	a, err := redis.NewBudget(redis.NewLimiter(redistest.Client(t), prefix), "memory-bank", lim)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := redis.NewBudget(redis.NewLimiter(redistest.Client(t), prefix), "memory-bank", lim)

	if slept, err := a.Wait(context.Background()); err != nil || slept != 0 {
		t.Fatalf("first call: slept %v, %v; want the burst at once", slept, err)
	}
	slept, err := b.Wait(context.Background())
	if err != nil || slept <= 0 {
		t.Fatalf("second call on the other process: slept %v, %v; want it to wait for the shared budget", slept, err)
	}
}

func TestBudget_honoursContext(t *testing.T) {
	t.Parallel()
	b, _ := redis.NewBudget(redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t)), "memory-bank",
		redis.Limit{Rate: 1, Period: time.Hour, Burst: 1})
	if _, err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait over budget = %v, want the context's deadline", err)
	}
}

func TestBudget_reportsRedisFailure(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	b, _ := redis.NewBudget(redis.NewLimiter(c, newLimiterPrefix(t)), "memory-bank", redis.Limit{Rate: 1, Period: time.Second, Burst: 1})
	_ = c.Close()
	if _, err := b.Wait(context.Background()); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a closed client = %v, want the limiter's error", err)
	}
	if _, err := redis.NewBudget(redis.NewLimiter(c, "x"), "k", redis.Limit{}); err == nil {
		t.Fatal("a zero limit was accepted")
	}
}
