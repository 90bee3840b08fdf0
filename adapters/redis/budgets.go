package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// The budgets the service spends from, each shaped as its consumer asks, so
// the wiring hands a Limiter over without a translation of its own.

// APIBudgets keeps the /api/v1 budgets of applications and end users
// (command.RateLimiter): every API instance spends from the same ones, a busy
// budget's requests from leases (Leases).
type APIBudgets struct{ leases *Leases }

func NewAPIBudgets(lim *Limiter) APIBudgets { return APIBudgets{leases: NewLeases(lim)} }

// Allow spends one request from key's budget of rate requests a second.
func (b APIBudgets) Allow(ctx context.Context, key string, rate application.Rate) (command.RateDecision, error) {
	d, err := b.leases.Allow(ctx, key, Limit{Rate: rate.PerSecond, Period: time.Second, Burst: rate.Burst})
	if err != nil {
		return command.RateDecision{}, err
	}
	return command.RateDecision{Allowed: d.Allowed, Remaining: d.Remaining, RetryAfter: d.RetryAfter, ResetAfter: d.ResetAfter}, nil
}

// FailureBudget counts failures per key under one limit
// (command.FailureBudget): Wait reads whether one more is allowed, Spend
// records one.
type FailureBudget struct {
	lim   *Limiter
	limit Limit
}

func NewFailureBudget(lim *Limiter, limit Limit) FailureBudget {
	return FailureBudget{lim: lim, limit: limit}
}

func (b FailureBudget) Wait(ctx context.Context, key string) (time.Duration, error) {
	return b.lim.Wait(ctx, key, b.limit)
}

func (b FailureBudget) Spend(ctx context.Context, key string) error {
	_, err := b.lim.Allow(ctx, key, b.limit)
	return err
}

// NamedBudgets spends from budgets the caller names, each under the limit
// the wiring gave that name; a key of budget name is stored as "name:key".
type NamedBudgets struct {
	lim    *Limiter
	limits map[string]Limit
}

func NewNamedBudgets(lim *Limiter, limits map[string]Limit) NamedBudgets {
	return NamedBudgets{lim: lim, limits: limits}
}

// Allow spends one event from budget's key. A positive wait is a refusal:
// retry after it. A budget without a limit is an error.
func (b NamedBudgets) Allow(ctx context.Context, budget, key string) (time.Duration, error) {
	limit, ok := b.limits[budget]
	if !ok {
		return 0, fmt.Errorf("no limit for budget %q", budget)
	}
	d, err := b.lim.Allow(ctx, budget+":"+key, limit)
	if err != nil {
		return 0, err
	}
	return d.RetryAfter, nil
}
