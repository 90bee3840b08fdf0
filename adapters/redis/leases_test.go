package redis_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// recorded is how many events key's budget under l has counted in Redis, read
// by spending one more from a limiter of its own (minus that one).
func recorded(t *testing.T, lim *redis.Limiter, key string, l redis.Limit) int {
	t.Helper()
	d := allow(t, lim, key, l)
	return l.Burst - d.Remaining - 1
}

// A busy budget's events are taken from Redis ahead of their requests, in
// leases that double while they are spent within their life, capped at 1 %
// of the rate; every answer still counts each request once.
func TestLeases_takeABusyBudgetAheadAndCountEachRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	l := redis.Limit{Rate: 10_000, Period: time.Hour, Burst: 10_000} // leases of 100 at most; about 3 events a second back
	c := &clock{t: time.Now()}
	a := redis.NewLeasesAt(lim, time.Hour, c.now)
	const spent = 300
	var last redis.Decision
	for i := range spent {
		d, err := a.Allow(ctx, "app:a", l)
		if err != nil || !d.Allowed {
			t.Fatalf("request %d: %+v, %v", i+1, d, err)
		}
		last = d
	}
	got := recorded(t, lim, "app:a", l)
	if got <= spent || got > spent+redis.LeaseShare {
		t.Errorf("Redis counted %d events for %d requests; want more (a lease ahead) by at most one lease (%d)", got, spent, l.Rate/redis.LeaseShare)
	}
	// 1+2+…+64 and two of 100: 327 taken for 300 spent.
	if got < 327-1 || got > 327+1 {
		t.Errorf("Redis counted %d events; want the leases 1, 2, 4 … 64, 100, 100 (327)", got)
	}
	if want := l.Burst - spent; last.Remaining < want-1 || last.Remaining > want+1 {
		t.Errorf("the last request's remaining %d; want %d, as if each request went to Redis", last.Remaining, want)
	}
}

// A lease that outlives its life is dropped with its unspent events, and the
// next asks for what the last one spent.
func TestLeases_dropALeaseThatOutlivesItsLife(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	l := redis.Limit{Rate: 10_000, Period: time.Hour, Burst: 10_000}
	c := &clock{t: time.Now()}
	a := redis.NewLeasesAt(lim, 100*time.Millisecond, c.now)
	for range 4 { // leases of 1, 2 and 4: 7 taken, 3 left
		if d, err := a.Allow(ctx, "app:a", l); err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
	}
	c.add(100 * time.Millisecond)
	d, err := a.Allow(ctx, "app:a", l)
	if err != nil || !d.Allowed {
		t.Fatal(d, err)
	}
	// The next lease is the one event spent of the last: 8 taken in all.
	if got := recorded(t, lim, "app:a", l); got < 8 || got > 9 {
		t.Errorf("Redis counted %d events; want 8: the outlived lease's 3 dropped, a lease of 1 taken", got)
	}
	if want := l.Burst - 8; d.Remaining < want-1 || d.Remaining > want+1 {
		t.Errorf("remaining %d after the outlived lease; want %d (its unspent events are gone)", d.Remaining, want)
	}
}

// Two instances hammering one budget never allow more than it holds between
// them; at most each one's last lease is left unspent.
func TestLeases_twoInstancesNeverExceedTheBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	l := redis.Limit{Rate: 400, Period: time.Hour, Burst: 400} // leases of 4 at most; one event back every 9 s
	instances := []*redis.Leases{redis.NewLeases(lim), redis.NewLeases(lim)}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, in := range instances {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					d, err := in.Allow(ctx, "app:a", l)
					switch {
					case err != nil:
						t.Error(err)
						return
					case d.Allowed:
						allowed.Add(1)
					case d.RetryAfter <= 0:
						t.Errorf("refused without a retry-after: %+v", d)
					default:
						refused.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	refill := int64(time.Since(start)/(9*time.Second)) + 1
	if n := allowed.Load(); n > int64(l.Burst)+refill || n < int64(l.Burst)-2*4 {
		t.Errorf("allowed %d of 1,600 against a budget of %d; want at most the budget and at least it less two leases of 4", n, l.Burst)
	}
	if refused.Load() == 0 {
		t.Error("nothing refused")
	}
}

// A budget too small to lease (under LeaseShare events a period) is checked
// in Redis for every event, as before.
func TestLeases_smallBudgetsGoToRedisEachTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	l := redis.Limit{Rate: 199, Period: time.Hour, Burst: 1000}
	a := redis.NewLeases(lim)
	for range 5 {
		if d, err := a.Allow(ctx, "app:a", l); err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
	}
	if got := recorded(t, lim, "app:a", l); got != 5 {
		t.Errorf("Redis counted %d events for 5 requests; want 5", got)
	}
}

// A lease is spent only under the limit it was taken under: once the limit
// changes (set-limits), the next request takes a new lease from Redis.
func TestLeases_dropALeaseWhenTheLimitChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	before := redis.Limit{Rate: 10_000, Period: time.Hour, Burst: 10_000}
	after := redis.Limit{Rate: 5_000, Period: 30 * time.Minute, Burst: 10_000} // the same pace, another limit
	c := &clock{t: time.Now()}
	a := redis.NewLeasesAt(lim, time.Hour, c.now)
	for range 10 { // leases of 1, 2, 4 and 8: 5 left
		if d, err := a.Allow(ctx, "app:a", before); err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
	}
	r0 := recorded(t, lim, "app:a", after)
	if d, err := a.Allow(ctx, "app:a", after); err != nil || !d.Allowed {
		t.Fatal(d, err)
	}
	// Between the two readings: the first reading's own event, and the
	// request's, taken from Redis rather than from the old lease.
	if r1 := recorded(t, lim, "app:a", after); r1-r0 != 2 {
		t.Errorf("Redis counted %d events between the readings; want 2: the request's went to Redis", r1-r0)
	}
}
