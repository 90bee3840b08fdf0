package service

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
)

// workerBank is the Memory Bank as the worker's command handlers see it: at
// most CUSTOM_GPT_WORKER_CONCURRENCY requests in flight in this process, and
// within the budget of CUSTOM_GPT_MEMORY_BANK_RATE shared by all processes.
// The API's reads use bank itself: they answer a waiting caller and are
// bounded by the per-application API rate limits instead. The embedded bank
// is Postgres, not a remote service, and is not paced.
func (s *Service) workerBank(bank memoryBank) (memoryBank, error) {
	client, ok := bank.(*memorybank.Client)
	if !ok {
		return bank, nil
	}
	cfg := memorybank.ThrottleConfig{
		InFlight: s.cfg.WorkerConcurrency,
		// A request waits for its turn after its operation's lease was taken;
		// bounded so, the wait and the call (and a second call of the same
		// attempt) stay inside the lease. A request refused for waiting longer
		// is redelivered, not failed.
		MaxWait:    max((s.cfg.WorkerLease-s.cfg.MemoryBankTimeout)/2, 100*time.Millisecond),
		Registerer: s.registry,
	}
	if p := s.cfg.Protection; p.Rate > 0 {
		b, err := redis.NewBudget(redis.NewLimiter(s.redis, s.cfg.StreamPrefix), "memory-bank",
			redis.Limit{Rate: p.Rate, Period: time.Second, Burst: p.Burst})
		if err != nil {
			return nil, err
		}
		cfg.Budget = b
	}
	t, err := memorybank.NewThrottle(cfg)
	if err != nil {
		return nil, err
	}
	return client.Paced(t), nil
}

// deadLetters is the poison stream, read through the service's own Redis client.
func (s *Service) deadLetters() *redis.DeadLetters {
	return redis.NewDeadLetters(s.redis, s.topics.Poison())
}

// registerDeadLetterDepth exports the poison stream's length (XLEN, O(1)) on
// every scrape.
func (s *Service) registerDeadLetterDepth(dl *redis.DeadLetters) {
	_ = s.registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "custom_gpt_dead_letters",
		Help: "Commands parked on the poison stream, waiting for a replay (dlq replay) or their retention to end.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := dl.Depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}
