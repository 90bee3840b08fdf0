package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Limit allows Rate events per Period on average, and up to Burst at once.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

func (l Limit) validate() error {
	if l.Rate < 1 || l.Period <= 0 || l.Burst < 1 {
		return fmt.Errorf("rate limit %d per %v, burst %d: rate and burst must be at least 1 and the period positive", l.Rate, l.Period, l.Burst)
	}
	return nil
}

// Decision is the limiter's answer to one event.
type Decision struct {
	Allowed bool
	// Remaining is how many more events would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next event would be allowed; zero when
	// this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full burst.
	ResetAfter time.Duration
}

// Limiter counts events per key in Redis (GCRA, one atomic script per event),
// so every instance of the service shares one budget per key. Its keys expire
// by themselves once the budget is full again.
type Limiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

// NewLimiter limits under prefix, which keeps deployments sharing a Redis
// apart. redis_rate stores each key as "rate:" + prefix + ":" + key.
//
// On a single-node client the scripts go through go-redis's autopipeliner:
// the checks of requests that arrive together share one write and one read
// on one connection, instead of a round trip each on a connection each
// (every request checks a budget, so at a few thousand requests a second the
// round trips were much of Redis's CPU and a share of the API's). A lone
// check is sent at once, as before.
func NewLimiter(client goredis.UniversalClient, prefix string) *Limiter {
	if c, ok := client.(*goredis.Client); ok {
		if ap, err := c.AutoPipeline(); err == nil {
			return &Limiter{rl: redis_rate.NewLimiter(ap), prefix: prefix}
		}
	}
	return &Limiter{rl: redis_rate.NewLimiter(client), prefix: prefix}
}

// Allow records one event on key if l allows it. A refused event costs
// nothing: retrying does not push the next allowed time further away. On a
// Redis failure the Decision is a refusal and the error says why; callers
// choose whether to fail open.
func (lim *Limiter) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	key, err := lim.key(key, l)
	if err != nil {
		return Decision{}, err
	}
	res, err := lim.rl.Allow(ctx, key, redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst})
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %q: %w", key, err)
	}
	return decision(res), nil
}

// AllowAtMost records up to n events on key, as many as l allows now, and
// returns how many it recorded (0 is a refusal) with the Decision after
// them: a lease of events spent later (APIBudgets).
func (lim *Limiter) AllowAtMost(ctx context.Context, key string, l Limit, n int) (int, Decision, error) {
	key, err := lim.key(key, l)
	if err != nil {
		return 0, Decision{}, err
	}
	res, err := lim.rl.AllowAtMost(ctx, key, redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst}, n)
	if err != nil {
		return 0, Decision{}, fmt.Errorf("rate limit %q: %w", key, err)
	}
	return res.Allowed, decision(res), nil
}

// key is key as stored under lim's prefix, once key and l are checked.
func (lim *Limiter) key(key string, l Limit) (string, error) {
	if key == "" {
		return "", errors.New("rate limit: empty key")
	}
	if err := l.validate(); err != nil {
		return "", err
	}
	if lim.prefix != "" {
		key = lim.prefix + ":" + key
	}
	return key, nil
}

func decision(res *redis_rate.Result) Decision {
	d := Decision{Allowed: res.Allowed > 0, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		// Never zero on a refusal, even when rounding says the budget refills now.
		d.RetryAfter = max(res.RetryAfter, time.Microsecond)
	}
	return d
}

// Wait tells how long until key's budget under l allows one more event,
// without recording one: 0 when it allows one now. A budget that counts only
// failures uses it to refuse an attempt before judging it, so that, once the
// failures are spent, a right guess is refused like a wrong one.
func (lim *Limiter) Wait(ctx context.Context, key string, l Limit) (time.Duration, error) {
	key, err := lim.key(key, l)
	if err != nil {
		return 0, err
	}
	// A cost of 0 reads the budget without spending it.
	res, err := lim.rl.AllowN(ctx, key, redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: l.Burst}, 0)
	if err != nil {
		return 0, fmt.Errorf("rate limit %q: %w", key, err)
	}
	if res.Remaining >= 1 {
		return 0, nil
	}
	// One event comes back one emission interval after the rest of the burst would.
	interval := l.Period / time.Duration(l.Rate)
	return max(res.ResetAfter-time.Duration(l.Burst-1)*interval, time.Microsecond), nil
}
