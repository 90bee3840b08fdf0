package memorybank

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
)

// Pacer admits one request to the Memory Bank, blocking until it may be sent;
// release is called once the request is done. A refusal is a *memory.BankError.
type Pacer interface {
	Admit(ctx context.Context) (release func(), err error)
}

// Budget is a calls-per-second budget toward the Memory Bank, shared by every
// worker process (adapters/redis.Budget keeps it in Redis).
type Budget interface {
	// Wait takes one call from the budget, sleeping until one is available or
	// ctx ends, and returns how long it slept.
	Wait(ctx context.Context) (time.Duration, error)
}

// ThrottleConfig bounds the worker's pressure on the Memory Bank.
type ThrottleConfig struct {
	// InFlight is how many requests may be in flight at once in this process; 0 is no bound.
	InFlight int
	// Budget is the shared calls-per-second budget; nil is no budget.
	Budget Budget
	// MaxWait bounds how long one request waits for a slot and the budget
	// together. Past it the request is refused as not sent (its command is
	// redelivered, not failed), so the wait stays well inside the operation's
	// lease. Default 10s.
	MaxWait time.Duration
	// Registerer receives the throttle's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// errOverBudget is the cause of a request that waited MaxWait without a slot or budget.
var errOverBudget = errors.New("memory bank budget exhausted")

// Throttle is the worker's Pacer: at most InFlight requests at once, each
// within the shared Budget. Waiting is FIFO for slots, and a request over
// budget waits rather than fails: under a flood, work queues up and completes
// in order instead of failing. A budget that cannot be read (Redis down) lets
// the request through: the breaker still protects the Memory Bank, and a
// worker cut off from Redis receives no commands anyway.
type Throttle struct {
	sem     *semaphore.Weighted
	budget  Budget
	maxWait time.Duration
	m       *throttleMetrics
}

var _ Pacer = (*Throttle)(nil)

// NewThrottle builds a Throttle.
func NewThrottle(cfg ThrottleConfig) (*Throttle, error) {
	m, err := newThrottleMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	t := &Throttle{budget: cfg.Budget, maxWait: cfg.MaxWait, m: m}
	if t.maxWait <= 0 {
		t.maxWait = 10 * time.Second
	}
	if cfg.InFlight > 0 {
		t.sem = semaphore.NewWeighted(int64(cfg.InFlight))
	}
	return t, nil
}

// Admit takes a slot, then one call of the budget.
func (t *Throttle) Admit(ctx context.Context) (func(), error) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, t.maxWait)
	defer cancel()
	held := false
	if t.sem != nil {
		if !t.sem.TryAcquire(1) {
			held = true
			if err := t.sem.Acquire(wctx, 1); err != nil {
				return nil, t.refuse(ctx, start)
			}
		}
	}
	release := func() {
		t.m.inFlight.Dec()
		if t.sem != nil {
			t.sem.Release(1)
		}
	}
	t.m.inFlight.Inc()
	if t.budget != nil {
		slept, err := t.budget.Wait(wctx)
		switch {
		case err != nil && wctx.Err() != nil:
			release()
			return nil, t.refuse(ctx, start)
		case err != nil:
			t.m.budgetErrors.Inc()
		case slept > 0:
			held = true
		}
	}
	if held {
		t.m.throttled.Inc()
		t.m.throttledSeconds.Add(time.Since(start).Seconds())
	}
	return release, nil
}

// refuse reports a wait that ended: the caller's own cancellation, or MaxWait.
func (t *Throttle) refuse(ctx context.Context, start time.Time) error {
	if ctx.Err() != nil {
		return cancelledError(ctx)
	}
	t.m.throttled.Inc()
	t.m.throttledSeconds.Add(time.Since(start).Seconds())
	return &memory.BankError{Transient: true, Reason: "over budget", RetryAfter: probeRetryAfter, Err: errOverBudget}
}

type throttleMetrics struct {
	inFlight                    prometheus.Gauge
	throttled, throttledSeconds prometheus.Counter
	budgetErrors                prometheus.Counter
}

func newThrottleMetrics(reg prometheus.Registerer) (*throttleMetrics, error) {
	m := &throttleMetrics{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "custom_gpt_memory_bank_in_flight",
			Help: "Worker requests to the Memory Bank admitted and not yet done, in this process.",
		}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_memory_bank_throttled_total",
			Help: "Worker requests to the Memory Bank that had to wait for a slot or the shared budget.",
		}),
		throttledSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_memory_bank_throttled_seconds_total",
			Help: "Time worker requests spent waiting for a slot or the shared budget.",
		}),
		budgetErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_memory_bank_budget_errors_total",
			Help: "Worker requests sent without checking the budget because Redis could not be read.",
		}),
	}
	var err error
	if m.inFlight, err = promreg.Register(reg, m.inFlight); err != nil {
		return nil, err
	}
	if m.throttled, err = promreg.Register(reg, m.throttled); err != nil {
		return nil, err
	}
	if m.throttledSeconds, err = promreg.Register(reg, m.throttledSeconds); err != nil {
		return nil, err
	}
	if m.budgetErrors, err = promreg.Register(reg, m.budgetErrors); err != nil {
		return nil, err
	}
	return m, nil
}
