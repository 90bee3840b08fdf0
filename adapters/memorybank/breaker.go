package memorybank

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// probeRetryAfter is what a caller turned away by a half-open breaker is told:
// one probe is in flight, and its answer is at most a call timeout away.
const probeRetryAfter = time.Second

// breaker is gobreaker's breaker plus the time it will next let a probe
// through, which gobreaker does not expose, so a refused caller can be told
// how long to wait (Retry-After) instead of a guess.
type breaker struct {
	*gobreaker.CircuitBreaker[struct{}]
	halfOpenAt atomic.Int64 // unix nanoseconds; meaningful while open
}

// newBreaker opens after cfg.ConsecutiveFailures transient failures in a row. Permanent
// errors (a 4xx: our request was wrong, the server is fine) count as successes, and calls
// the caller abandoned count as nothing.
func newBreaker(cfg BreakerConfig, state prometheus.Gauge) *breaker {
	b := &breaker{}
	state.Set(float64(gobreaker.StateClosed))
	b.CircuitBreaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "memorybank",
		MaxRequests: 1,
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= cfg.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool {
			return err == nil || !memory.IsTransient(err)
		},
		IsExcluded: func(err error) bool {
			return errors.Is(err, errCancelled)
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.halfOpenAt.Store(time.Now().Add(cfg.OpenTimeout).UnixNano())
			}
			state.Set(float64(to))
		},
	})
	return b
}

// refusal is the error of a call the breaker turned away (err is gobreaker's),
// or nil when err is no refusal. Its RetryAfter is the time left until the
// breaker lets a probe through, at least a second.
func (b *breaker) refusal(err error) *memory.BankError {
	switch {
	case errors.Is(err, gobreaker.ErrOpenState):
		left := time.Until(time.Unix(0, b.halfOpenAt.Load()))
		return breakerError(err, max(left, probeRetryAfter))
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return breakerError(err, probeRetryAfter)
	}
	return nil
}

// openError is the refusal of an open breaker, or nil when it is not open. It
// lets a call fail fast before it waits for anything else (the budget).
func (b *breaker) openError() *memory.BankError {
	if b.State() != gobreaker.StateOpen {
		return nil
	}
	return b.refusal(gobreaker.ErrOpenState)
}
