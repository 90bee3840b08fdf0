package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

func TestAPIBudgets_spendTheBurstThenRefuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := redis.NewAPIBudgets(redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t)))
	rate := application.Rate{PerSecond: 1, Burst: 2}
	for i, wantRemaining := range []int{1, 0} {
		d, err := b.Allow(ctx, "app:a", rate)
		if err != nil || !d.Allowed || d.Remaining != wantRemaining {
			t.Fatalf("request %d: %+v, %v; want allowed with %d remaining", i+1, d, err, wantRemaining)
		}
	}
	d, err := b.Allow(ctx, "app:a", rate)
	if err != nil || d.Allowed || d.RetryAfter <= 0 {
		t.Fatalf("past the burst: %+v, %v; want refused with a retry-after", d, err)
	}
	if d, err := b.Allow(ctx, "app:b", rate); err != nil || !d.Allowed {
		t.Errorf("another key: %+v, %v; want its own budget", d, err)
	}
}

func TestFailureBudget_waitReadsAndSpendCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := redis.NewFailureBudget(redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t)),
		redis.Limit{Rate: 2, Period: time.Minute, Burst: 2})
	for range 3 {
		if wait, err := b.Wait(ctx, "addr"); err != nil || wait != 0 {
			t.Fatalf("before any failure: wait %v, %v; want none", wait, err)
		}
	}
	for range 2 {
		if err := b.Spend(ctx, "addr"); err != nil {
			t.Fatal(err)
		}
	}
	if wait, err := b.Wait(ctx, "addr"); err != nil || wait <= 0 {
		t.Errorf("after the budget's failures: wait %v, %v; want a positive wait", wait, err)
	}
}

// Each named budget has its own limit, and its keys are "name:key", the
// names the authorization server's budgets have always had in Redis.
func TestNamedBudgets_eachNameItsLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lim := redis.NewLimiter(redistest.Client(t), newLimiterPrefix(t))
	one := redis.Limit{Rate: 1, Period: time.Minute, Burst: 1}
	b := redis.NewNamedBudgets(lim, map[string]redis.Limit{
		"login:account": one,
		"login:address": {Rate: 2, Period: time.Minute, Burst: 2},
	})
	if wait, err := b.Allow(ctx, "login:account", "a@example.com"); err != nil || wait != 0 {
		t.Fatalf("first: wait %v, %v", wait, err)
	}
	if wait, err := b.Allow(ctx, "login:account", "a@example.com"); err != nil || wait <= 0 {
		t.Fatalf("past the burst of 1: wait %v, %v; want refused", wait, err)
	}
	for i := range 2 {
		if wait, err := b.Allow(ctx, "login:address", "a@example.com"); err != nil || wait != 0 {
			t.Fatalf("the other budget, event %d: wait %v, %v; want allowed", i+1, wait, err)
		}
	}
	if d, err := lim.Allow(ctx, "login:account:a@example.com", one); err != nil || d.Allowed {
		t.Errorf("the key under its full name: %+v, %v; want the budget already spent", d, err)
	}
	if _, err := b.Allow(ctx, "nameless", "k"); err == nil {
		t.Error("a budget without a limit was allowed")
	}
}
