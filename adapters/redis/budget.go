package redis

import (
	"context"
	"time"
)

// Budget is one key's rate limit taken by waiting instead of refusing: every
// process sharing the Redis and the key shares the budget.
type Budget struct {
	lim   *Limiter
	key   string
	limit Limit
}

// NewBudget allows limit on key of lim.
func NewBudget(lim *Limiter, key string, limit Limit) (*Budget, error) {
	if err := limit.validate(); err != nil {
		return nil, err
	}
	return &Budget{lim: lim, key: key, limit: limit}, nil
}

// Wait takes one event from the budget, sleeping for the limiter's RetryAfter
// as often as it takes, and returns how long it slept. A refused try costs
// nothing (GCRA), so waiting never pushes the budget further away. It returns
// ctx's error when ctx ends first, and the limiter's when Redis fails.
func (b *Budget) Wait(ctx context.Context) (time.Duration, error) {
	var slept time.Duration
	for {
		d, err := b.lim.Allow(ctx, b.key, b.limit)
		if err != nil {
			if ctx.Err() != nil {
				return slept, ctx.Err()
			}
			return slept, err
		}
		if d.Allowed {
			return slept, nil
		}
		timer := time.NewTimer(d.RetryAfter)
		start := time.Now()
		select {
		case <-ctx.Done():
			timer.Stop()
			return slept + time.Since(start), ctx.Err()
		case <-timer.C:
			slept += time.Since(start)
		}
	}
}
