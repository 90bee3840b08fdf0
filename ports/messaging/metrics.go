package messaging

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
)

// How the handling of an operation's command ended, as the "outcome" label
// spells it.
const (
	// outcomeSucceeded: the command is done with; its operation ended (either
	// way) or waits for an earlier write of its scope to hand it the turn.
	outcomeSucceeded = "succeeded"
	// outcomeRetryLater: not yet (a lease held elsewhere, an open breaker, the
	// database away); redelivered without spending a retry.
	outcomeRetryLater = "retry_later"
	// outcomeFailed: an error; retried, then parked on the poison stream.
	outcomeFailed = "failed"
)

// operationMetrics counts and times every handling of an operation's
// command, by kind: the worker's rate, errors and duration.
type operationMetrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newOperationMetrics(reg prometheus.Registerer) (*operationMetrics, error) {
	handled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custom_gpt_operations_handled_total",
		Help: "Commands of operations a worker handled, by kind and outcome: succeeded (done with), " +
			"retry_later (redelivered without spending a retry), failed (retried, then parked).",
	}, []string{"kind", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "custom_gpt_operation_handling_duration_seconds",
		Help:    "Time a worker spent handling one command of an operation, by kind and outcome.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"kind", "outcome"})
	var err error
	if handled, err = promreg.Register(reg, handled); err != nil {
		return nil, err
	}
	if duration, err = promreg.Register(reg, duration); err != nil {
		return nil, err
	}
	// Every kind's series exists from the start, so a rate over it is 0
	// rather than absent.
	for _, k := range events.Kinds() {
		for _, o := range []string{outcomeSucceeded, outcomeRetryLater, outcomeFailed} {
			handled.WithLabelValues(string(k.Name), o)
			duration.WithLabelValues(string(k.Name), o)
		}
	}
	return &operationMetrics{handled: handled, duration: duration}, nil
}

func (m *operationMetrics) observe(kind string, start time.Time, err error) {
	outcome := outcomeSucceeded
	switch {
	case err == nil:
	case redeliverLater(err):
		outcome = outcomeRetryLater
	default:
		outcome = outcomeFailed
	}
	m.handled.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind, outcome).Observe(time.Since(start).Seconds())
}
