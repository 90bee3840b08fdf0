// Package service wires adapters, application and ports together. It is the
// only place that knows every concrete type; the command line and the
// component tests call it. It holds three things: the connections
// (Infrastructure), the use cases built over them in one pass
// (NewApplication), and the ports and background loops a process runs
// (RunAPI, RunWorker, RunOps).
package service

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Service is one running instance: API, worker, or both.
type Service struct {
	cfg   Config
	log   *slog.Logger
	infra *Infrastructure
	app   app.Application
	// tokens is the access-token check the application was built with; the
	// authorization server is given the same.
	tokens *query.TokenVerifier
}

// Option changes how New builds a service; component tests use them.
type Option func(*options)

type options struct {
	now    func() time.Time
	tracer trace.TracerProvider // see WithTracerProvider
}

func optionsOf(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock makes the webhook scheduler and dispatcher read time from now,
// so tests reach retries hours away without waiting.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New connects to what cfg names and builds the application. It refuses an
// unmigrated database unless cfg.AutoMigrate is set.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (*Service, error) {
	o := optionsOf(opts)
	in, err := Connect(ctx, cfg, log, opts...)
	if err != nil {
		return nil, err
	}
	if tracing.On(in.Tracer) {
		// Each line logged inside a request or a message names its trace.
		log = slog.New(tracing.LogHandler(log.Handler()))
	}
	tokens := NewTokenVerifier(cfg, in)
	a := NewApplication(Deps{Config: cfg, Infra: in, Tokens: tokens, Log: log, Now: o.now})
	return &Service{cfg: cfg, log: log, infra: in, app: a, tokens: tokens}, nil
}

// App exposes the use cases, for the command line.
func (s *Service) App() app.Application { return s.app }

// Close releases the connections.
func (s *Service) Close() { s.infra.Close() }

// topics names the streams under CUSTOM_GPT_STREAM_PREFIX.
func (c Config) topics() events.Topics { return events.Topics{Prefix: c.StreamPrefix} }
