// Package decorator wraps use-case handlers with logging and metrics, so the
// handlers themselves hold only their use case.
package decorator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CommandHandler handles one command and returns only whether it worked.
type CommandHandler[C any] interface {
	Handle(ctx context.Context, cmd C) error
}

// QueryHandler answers one query.
type QueryHandler[Q any, R any] interface {
	Handle(ctx context.Context, q Q) (R, error)
}

// Metrics records how long each handler takes and how it ends.
type Metrics struct{ duration *prometheus.HistogramVec }

// NewMetrics registers the handler metrics on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "custom_gpt_app_handler_duration_seconds",
		Help:    "Time spent in application command and query handlers.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"handler", "outcome"})}
	if reg != nil {
		reg.MustRegister(m.duration)
	}
	return m
}

func (m *Metrics) observe(name string, start time.Time, err error) {
	if m == nil {
		return
	}
	outcome := "success"
	if err != nil {
		outcome = "error"
	}
	m.duration.WithLabelValues(name, outcome).Observe(time.Since(start).Seconds())
}

// ApplyCommandDecorators wraps h with logging and metrics.
func ApplyCommandDecorators[C any](h CommandHandler[C], log *slog.Logger, m *Metrics) CommandHandler[C] {
	return commandDecorator[C]{base: h, name: handlerName(h), log: log, metrics: m}
}

// ApplyQueryDecorators wraps h with logging and metrics.
func ApplyQueryDecorators[Q any, R any](h QueryHandler[Q, R], log *slog.Logger, m *Metrics) QueryHandler[Q, R] {
	return queryDecorator[Q, R]{base: h, name: handlerName(h), log: log, metrics: m}
}

type commandDecorator[C any] struct {
	base    CommandHandler[C]
	name    string
	log     *slog.Logger
	metrics *Metrics
}

func (d commandDecorator[C]) Handle(ctx context.Context, cmd C) (err error) {
	start := time.Now()
	defer func() {
		d.metrics.observe(d.name, start, err)
		logOutcome(ctx, d.log, d.name, start, err)
	}()
	return d.base.Handle(ctx, cmd)
}

type queryDecorator[Q any, R any] struct {
	base    QueryHandler[Q, R]
	name    string
	log     *slog.Logger
	metrics *Metrics
}

func (d queryDecorator[Q, R]) Handle(ctx context.Context, q Q) (r R, err error) {
	start := time.Now()
	defer func() {
		d.metrics.observe(d.name, start, err)
		logOutcome(ctx, d.log, d.name, start, err)
	}()
	return d.base.Handle(ctx, q)
}

func logOutcome(ctx context.Context, log *slog.Logger, name string, start time.Time, err error) {
	if log == nil {
		return
	}
	if err != nil {
		log.InfoContext(ctx, "handler failed", "handler", name, "duration", time.Since(start), "error", err)
		return
	}
	log.DebugContext(ctx, "handler done", "handler", name, "duration", time.Since(start))
}

// handlerName turns "*command.createMemoryHandler" into "createMemory".
func handlerName(h any) string {
	s := fmt.Sprintf("%T", h)
	if i := strings.LastIndex(s, "."); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSuffix(s, "Handler")
}
