package memorybank_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

func budget(t *testing.T, limit redis.Limit) *redis.Budget {
	t.Helper()
	b, err := redis.NewBudget(redis.NewLimiter(redistest.Client(t), redistest.Prefix(t)), "memory-bank", limit)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func throttle(t *testing.T, cfg memorybank.ThrottleConfig) *memorybank.Throttle {
	t.Helper()
	th, err := memorybank.NewThrottle(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// Over budget, a paced request waits for the shared budget and then succeeds.
func TestThrottleWaitsForTheBudget(t *testing.T) {
	t.Parallel()
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	srv.SetAPIKey(apiKey)
	reg := prometheus.NewRegistry()
	base := newClient(t, srv.URL(), memorybank.FlavorOSS, func(c *memorybank.Config) { c.Registerer = reg })
	paced := base.Paced(throttle(t, memorybank.ThrottleConfig{
		InFlight: 1, Budget: budget(t, redis.Limit{Rate: 50, Period: time.Second, Burst: 1}), Registerer: reg,
	}))
	alice := scope(t, "app1", "alice")
	for i := range 4 {
		if _, err := paced.Add(context.Background(), alice, draft(t, "fact", nil), "op-"+string(rune('a'+i))); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if srv.Count() != 4 {
		t.Fatalf("the bank holds %d memories, want 4", srv.Count())
	}
	if got := metricValue(t, reg, "custom_gpt_memory_bank_throttled_total", nil); got < 3 {
		t.Errorf("throttled_total = %v, want every request past the burst to have waited", got)
	}
	if got := metricValue(t, reg, "custom_gpt_memory_bank_in_flight", nil); got != 0 {
		t.Errorf("in_flight = %v after all requests ended", got)
	}
}

// A request that cannot get its budget within MaxWait is not sent, and says so;
// the unpaced client (the API's reads) does not share the worker's budget.
func TestThrottleRefusesPastMaxWaitWithoutSending(t *testing.T) {
	t.Parallel()
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	srv.SetAPIKey(apiKey)
	reg := prometheus.NewRegistry()
	base := newClient(t, srv.URL(), memorybank.FlavorOSS, func(c *memorybank.Config) { c.Registerer = reg })
	paced := base.Paced(throttle(t, memorybank.ThrottleConfig{
		Budget: budget(t, redis.Limit{Rate: 1, Period: time.Hour, Burst: 1}), MaxWait: 30 * time.Millisecond, Registerer: reg,
	}))
	alice := scope(t, "app1", "alice")
	if _, err := paced.Add(context.Background(), alice, draft(t, "first", nil), "op-1"); err != nil {
		t.Fatal(err)
	}
	sent := srv.Requests()
	_, err := paced.Add(context.Background(), alice, draft(t, "second", nil), "op-2")
	if after, ok := memory.NotSent(err); !ok || after <= 0 || !memory.IsTransient(err) {
		t.Fatalf("add over budget = %v, want a transient not-sent error", err)
	}
	if srv.Requests() != sent {
		t.Fatalf("the bank received a request over budget")
	}
	if got := metricValue(t, reg, "custom_gpt_memory_bank_requests_total", map[string]string{"operation": "add", "outcome": "throttled"}); got != 1 {
		t.Errorf("throttled outcome = %v, want 1", got)
	}
	if _, err := base.Search(context.Background(), alice, query(t, "first", 5)); err != nil {
		t.Fatalf("unpaced search over the worker's budget: %v", err)
	}
	// The caller's own cancellation is told apart from the budget.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := paced.Add(ctx, alice, draft(t, "third", nil), "op-3"); err == nil {
		t.Fatal("a cancelled add succeeded")
	} else if _, ok := memory.NotSent(err); ok {
		t.Fatalf("a cancelled add = %v, want a cancellation, not a not-sent error", err)
	}
}

// At most InFlight requests reach the bank at once.
func TestThrottleBoundsRequestsInFlight(t *testing.T) {
	t.Parallel()
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	srv.SetAPIKey(apiKey)
	var active, peak atomic.Int32
	gate := make(chan struct{})
	srv.AfterAdd(func() {
		n := active.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-gate
		active.Add(-1)
	})
	paced := newClient(t, srv.URL(), memorybank.FlavorOSS).Paced(throttle(t, memorybank.ThrottleConfig{InFlight: 2}))
	alice := scope(t, "app1", "alice")
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	for i := range 5 {
		wg.Go(func() {
			_, err := paced.Add(context.Background(), alice, draft(t, "fact", nil), "op-"+string(rune('a'+i)))
			errc <- err
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for active.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Fatalf("%d requests were in flight at once, want at most (and here exactly) 2", p)
	}
}

// An open breaker answers at once with the time left until it lets a probe
// through, and takes nothing from the budget.
func TestOpenBreakerTellsWhenToRetry(t *testing.T) {
	t.Parallel()
	srv := mem0test.NewServer(t, memorybank.FlavorOSS)
	srv.SetAPIKey(apiKey)
	const open = time.Hour
	base := newClient(t, srv.URL(), memorybank.FlavorOSS, withBreaker(open, nil))
	paced := base.Paced(throttle(t, memorybank.ThrottleConfig{
		Budget: budget(t, redis.Limit{Rate: 1, Period: time.Hour, Burst: 1}), MaxWait: time.Hour,
	}))
	alice := scope(t, "app1", "alice")
	srv.SetDown(true)
	for range failures {
		_, _ = base.Search(context.Background(), alice, query(t, "x", 5))
	}
	for _, call := range []func() error{
		func() error { _, err := base.Search(context.Background(), alice, query(t, "x", 5)); return err },
		// Waiting for the spent budget would block for an hour: it must not be asked.
		func() error { _, err := paced.Add(context.Background(), alice, draft(t, "x", nil), "op"); return err },
		func() error { _, err := paced.Add(context.Background(), alice, draft(t, "x", nil), "op"); return err },
	} {
		after, ok := memory.NotSent(call())
		if !ok || after <= open-time.Minute || after > open {
			t.Fatalf("call while open: retry after %v (%v), want about %v", after, ok, open)
		}
	}
	if srv.Requests() != failures {
		t.Fatalf("the bank received %d requests, want %d", srv.Requests(), failures)
	}
	if err := base.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded while open")
	}
}
