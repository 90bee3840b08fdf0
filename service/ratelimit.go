package service

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// apiRateLimiter keeps the /api/v1 budgets in Redis (GCRA), so every API
// instance spends from the same ones.
type apiRateLimiter struct{ limiter *redis.Limiter }

func (l apiRateLimiter) Allow(ctx context.Context, key string, rate application.Rate) (command.RateDecision, error) {
	d, err := l.limiter.Allow(ctx, key, redis.Limit{Rate: rate.PerSecond, Period: time.Second, Burst: rate.Burst})
	if err != nil {
		return command.RateDecision{}, err
	}
	return command.RateDecision{Allowed: d.Allowed, Remaining: d.Remaining, RetryAfter: d.RetryAfter, ResetAfter: d.ResetAfter}, nil
}

// adminFailures allows each client address 10 failed admin-token attempts a
// minute (bursts of 10), through Redis so every API instance counts together.
type adminFailures struct{ limiter *redis.Limiter }

var adminFailureLimit = redis.Limit{Rate: 10, Period: time.Minute, Burst: 10}

func (a adminFailures) Wait(ctx context.Context, key string) (time.Duration, error) {
	return a.limiter.Wait(ctx, key, adminFailureLimit)
}

func (a adminFailures) Spend(ctx context.Context, key string) error {
	_, err := a.limiter.Allow(ctx, key, adminFailureLimit)
	return err
}
