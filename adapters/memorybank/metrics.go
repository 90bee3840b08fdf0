package memorybank

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
)

const (
	opAdd       = "add"
	opEvent     = "event"
	opFind      = "find"
	opHeld      = "held"
	opSearch    = "search"
	opGet       = "get"
	opUpdate    = "update"
	opDelete    = "delete"
	opDeleteAll = "delete_all"
	opHistory   = "history"
)

// Outcomes of a call, as the requests_total "outcome" label spells them.
const (
	outcomeSuccess     = "success"
	outcomePermanent   = "permanent_error"
	outcomeTransient   = "transient_error"
	outcomeCircuitOpen = "circuit_open"
	outcomeCancelled   = "cancelled"
	// outcomeThrottled is a worker request that waited too long for its budget: not sent.
	outcomeThrottled = "throttled"
	// outcomeNotFound is a memory missing or not the caller's: a healthy answer.
	outcomeNotFound = "not_found"
)

// opMetrics holds one operation's series, resolved once so a call does no label lookups.
type opMetrics struct {
	success, permanent, transient, circuitOpen, cancelled, notFound, throttled prometheus.Counter
	duration                                                                   prometheus.Observer
}

func (m *opMetrics) record(err error) {
	var be *memory.BankError
	switch {
	case err == nil:
		m.success.Inc()
	case errs.KindOf(err) == errs.KindNotFound:
		m.notFound.Inc()
	case errors.Is(err, errCancelled):
		m.cancelled.Inc()
	case isBreakerRejection(err):
		m.circuitOpen.Inc()
	case errors.Is(err, errOverBudget):
		m.throttled.Inc()
	case errors.As(err, &be) && !be.Transient:
		m.permanent.Inc()
	default:
		m.transient.Inc()
	}
}

type metrics struct {
	add, event, find, held, search          *opMetrics
	get, update, delete, deleteAll, history *opMetrics
	breakerState                            prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custom_gpt_memory_bank_requests_total",
		Help: "Memory Bank calls by operation and outcome.",
	}, []string{"operation", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "custom_gpt_memory_bank_request_duration_seconds",
		Help:    "Time of Memory Bank calls that reached the server, reading the answer included.",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation"})
	state := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "custom_gpt_memory_bank_breaker_state",
		Help: "Circuit breaker in front of the Memory Bank: 0 closed, 1 half-open, 2 open.",
	})
	var err error
	if requests, err = promreg.Register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = promreg.Register(reg, duration); err != nil {
		return nil, err
	}
	if state, err = promreg.Register(reg, state); err != nil {
		return nil, err
	}
	forOp := func(op string) *opMetrics {
		return &opMetrics{
			success:     requests.WithLabelValues(op, outcomeSuccess),
			permanent:   requests.WithLabelValues(op, outcomePermanent),
			transient:   requests.WithLabelValues(op, outcomeTransient),
			circuitOpen: requests.WithLabelValues(op, outcomeCircuitOpen),
			cancelled:   requests.WithLabelValues(op, outcomeCancelled),
			notFound:    requests.WithLabelValues(op, outcomeNotFound),
			throttled:   requests.WithLabelValues(op, outcomeThrottled),
			duration:    duration.WithLabelValues(op),
		}
	}
	return &metrics{
		add: forOp(opAdd), event: forOp(opEvent), find: forOp(opFind), held: forOp(opHeld), search: forOp(opSearch),
		get: forOp(opGet), update: forOp(opUpdate), delete: forOp(opDelete), deleteAll: forOp(opDeleteAll), history: forOp(opHistory),
		breakerState: state,
	}, nil
}
