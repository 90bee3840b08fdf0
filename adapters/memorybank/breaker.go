package memorybank

import (
	"errors"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// newBreaker opens after cfg.ConsecutiveFailures transient failures in a row. Permanent
// errors (a 4xx: our request was wrong, the server is fine) count as successes, and calls
// the caller abandoned count as nothing.
func newBreaker(cfg BreakerConfig, state prometheus.Gauge) *gobreaker.CircuitBreaker[struct{}] {
	state.Set(float64(gobreaker.StateClosed))
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
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
			state.Set(float64(to))
		},
	})
}
