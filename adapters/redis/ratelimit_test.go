package redis_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// newLimiterPrefix returns a fresh prefix whose limiter keys are deleted at
// cleanup (redis_rate puts its own "rate:" in front of them).
func newLimiterPrefix(t *testing.T) string {
	t.Helper()
	prefix := redistest.Prefix(t)
	c := redistest.Client(t)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

func allow(t *testing.T, l *redis.Limiter, key string, lim redis.Limit) redis.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return d
}

func TestLimiter_burstThenRefused(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	lim := redis.Limit{Rate: 3, Period: time.Hour, Burst: 3}
	const interval = 20 * time.Minute // one event's worth of the hour

	for i, wantRemaining := range []int{2, 1, 0} {
		d := allow(t, l, "login:alice", lim)
		if !d.Allowed || d.Remaining != wantRemaining || d.RetryAfter != 0 {
			t.Fatalf("event %d: %+v, want allowed with %d remaining", i+1, d, wantRemaining)
		}
		if want := time.Duration(i+1) * interval; d.ResetAfter <= want-time.Second || d.ResetAfter > want {
			t.Errorf("event %d: reset after %v, want about %v", i+1, d.ResetAfter, want)
		}
	}
	for i := range 2 { // a refusal does not push the next allowed time away
		d := allow(t, l, "login:alice", lim)
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("refusal %d: %+v, want refused", i+1, d)
		}
		if d.RetryAfter <= interval-time.Second || d.RetryAfter > interval {
			t.Errorf("refusal %d: retry after %v, want about %v", i+1, d.RetryAfter, interval)
		}
		if d.ResetAfter <= time.Hour-time.Second || d.ResetAfter > time.Hour {
			t.Errorf("refusal %d: reset after %v, want about 1h", i+1, d.ResetAfter)
		}
	}
}

// A burst above the rate: Burst events at once, then the steady rate.
func TestLimiter_burstLargerThanRate(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	lim := redis.Limit{Rate: 1, Period: time.Hour, Burst: 5}

	for i := range 5 {
		if d := allow(t, l, "k", lim); !d.Allowed {
			t.Fatalf("event %d of the burst refused: %+v", i+1, d)
		}
	}
	d := allow(t, l, "k", lim)
	if d.Allowed || d.RetryAfter <= 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("after the burst: %+v, want refused for about an hour", d)
	}
}

func TestLimiter_keysAreIndependent(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	prefix := newLimiterPrefix(t)
	l := redis.NewLimiter(client, prefix)
	lim := redis.Limit{Rate: 1, Period: time.Hour, Burst: 1}

	if d := allow(t, l, "client:a", lim); !d.Allowed {
		t.Fatalf("first event of a: %+v", d)
	}
	if d := allow(t, l, "client:a", lim); d.Allowed {
		t.Fatalf("second event of a allowed: %+v", d)
	}
	if d := allow(t, l, "client:b", lim); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("b is limited by a's events: %+v", d)
	}
	// Another prefix (another deployment on the same Redis) has budgets of its own.
	other := redis.NewLimiter(client, prefix+"-other")
	if d := allow(t, other, "client:a", lim); !d.Allowed {
		t.Fatalf("a under another prefix is limited: %+v", d)
	}
}

// Two API instances, each with its own client and limiter, draw on one budget,
// even when their events race.
func TestLimiter_instancesShareTheBudget(t *testing.T) {
	t.Parallel()
	prefix := newLimiterPrefix(t)
	instances := []*redis.Limiter{
		redis.NewLimiter(redistest.Client(t), prefix),
		redis.NewLimiter(redistest.Client(t), prefix),
	}
	lim := redis.Limit{Rate: 5, Period: time.Hour, Burst: 5}

	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		l := instances[i%2]
		wg.Go(func() {
			d, err := l.Allow(context.Background(), "token:client-1", lim)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 5 {
		t.Fatalf("%d of 40 racing events allowed across two instances, want exactly the burst of 5", got)
	}
	for i, l := range instances {
		if d := allow(t, l, "token:client-1", lim); d.Allowed {
			t.Errorf("instance %d still allows after the shared budget is spent: %+v", i, d)
		}
	}
}

// The budget refills at the rate. A tiny period keeps this fast; polling
// replaces sleeping, and refusals cost nothing, so polling does not delay it.
func TestLimiter_refills(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	lim := redis.Limit{Rate: 1, Period: 50 * time.Millisecond, Burst: 1}

	if d := allow(t, l, "k", lim); !d.Allowed {
		t.Fatalf("first event: %+v", d)
	}
	refused := allow(t, l, "k", lim)
	refusedAt := time.Now()
	if refused.Allowed || refused.RetryAfter <= 0 || refused.RetryAfter > lim.Period {
		t.Fatalf("second event: %+v, want refused for at most %v", refused, lim.Period)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		d := allow(t, l, "k", lim)
		if d.Allowed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not refilled after 5s: %+v", d)
		}
	}
	// Allowed again no sooner than promised (minus a round trip's slack).
	if waited := time.Since(refusedAt); waited < refused.RetryAfter/2 {
		t.Errorf("allowed again after %v, but retry-after said %v", waited, refused.RetryAfter)
	}
}

// A key holds no state once its budget is full again: nothing accumulates.
func TestLimiter_keysExpire(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	prefix := newLimiterPrefix(t)
	l := redis.NewLimiter(client, prefix)

	d := allow(t, l, "k", redis.Limit{Rate: 10, Period: time.Minute, Burst: 10})
	keys, err := client.Keys(context.Background(), "*"+prefix+":k").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys under the prefix: %v, %v; want one", keys, err)
	}
	ttl, err := client.TTL(context.Background(), keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > d.ResetAfter+time.Second {
		t.Fatalf("ttl of %s = %v, %v; want positive, at most reset-after %v", keys[0], ttl, err, d.ResetAfter)
	}
}

func TestLimiter_refusesBadInput(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	ok := redis.Limit{Rate: 1, Period: time.Second, Burst: 1}

	tests := []struct {
		name string
		key  string
		lim  redis.Limit
	}{
		{"empty key", "", ok},
		{"zero rate", "k", redis.Limit{Rate: 0, Period: time.Second, Burst: 1}},
		{"zero burst", "k", redis.Limit{Rate: 1, Period: time.Second, Burst: 0}},
		{"zero period", "k", redis.Limit{Rate: 1, Period: 0, Burst: 1}},
		{"negative period", "k", redis.Limit{Rate: 1, Period: -time.Second, Burst: 1}},
		{"zero limit", "k", redis.Limit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := l.Allow(context.Background(), tt.key, tt.lim)
			if err == nil || d.Allowed {
				t.Errorf("Allow = %+v, %v; want an error and a refusal", d, err)
			}
		})
	}
}

// With Redis unreachable the answer is an error and a refusal, never a silent
// allowance.
func TestLimiter_redisDown(t *testing.T) {
	t.Parallel()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	l := redis.NewLimiter(c, "down")

	d, err := l.Allow(context.Background(), "k", redis.Limit{Rate: 1, Period: time.Second, Burst: 1})
	if err == nil || d.Allowed {
		t.Fatalf("Allow = %+v, %v; want an error and a refusal", d, err)
	}
}

// Wait reads a budget without spending it: free while events remain, then
// how long until the next one, and reading it never moves that time.
func TestLimiter_waitReadsWithoutSpending(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	lim := redis.Limit{Rate: 2, Period: time.Hour, Burst: 2}
	const interval = 30 * time.Minute
	wait := func() time.Duration {
		t.Helper()
		w, err := l.Wait(context.Background(), "admin:1.2.3.4", lim)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	for range 5 {
		if w := wait(); w != 0 {
			t.Fatalf("an unspent budget waits %v", w)
		}
	}
	allow(t, l, "admin:1.2.3.4", lim)
	if w := wait(); w != 0 {
		t.Fatalf("with one event left the budget waits %v", w)
	}
	allow(t, l, "admin:1.2.3.4", lim)
	for range 3 {
		if w := wait(); w <= interval-time.Second || w > interval {
			t.Fatalf("a spent budget waits %v, want about %v", w, interval)
		}
	}
	if d := allow(t, l, "admin:1.2.3.4", lim); d.Allowed {
		t.Fatalf("reading the budget gave an event back: %+v", d)
	}
}
