package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"golang.org/x/sync/errgroup"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
)

// RunWorker consumes commands, parks and fails poisoned ones, relays the
// outbox to Redis, sends webhooks and runs the worker's loops, until ctx
// ends. It then stops taking commands and lets those in progress finish, for
// at most CUSTOM_GPT_SHUTDOWN_GRACE, before it returns.
func (s *Service) RunWorker(ctx context.Context) error {
	cfg, in := s.cfg, s.infra
	if err := registerWorkerMetrics(in, cfg, s.log); err != nil {
		return err
	}
	wlog := messaging.NewLogger(s.log)
	hardStop, stopNow := context.WithCancel(context.WithoutCancel(ctx))
	defer stopNow()
	context.AfterFunc(ctx, func() {
		t := time.AfterFunc(cfg.ShutdownGrace, stopNow)
		context.AfterFunc(hardStop, func() { t.Stop() })
	})
	host, _ := os.Hostname()
	mcfg := messaging.Config{
		Topics: cfg.topics(), Subscribe: s.subscriber(wlog),
		Consumer:    fmt.Sprintf("%s-%d-%s", host, os.Getpid(), watermill.NewShortUUID()[:6]),
		Concurrency: cfg.WorkerConcurrency, NackSleep: 500 * time.Millisecond,
		HoldBack: min(cfg.BreakerOpenTimeout, cfg.WorkerClaimIdle/2),
		Retry:    messaging.RetryConfig{MaxRetries: cfg.RetryMax, InitialInterval: cfg.RetryInitial, MaxInterval: cfg.RetryMaxInterval},
		HardStop: hardStop, Grace: cfg.ShutdownGrace, Registerer: in.Registry,
		Tracer: in.Tracer,
	}
	poisonPub, err := redis.NewPublisher(in.RedisOptions, 0, wlog)
	if err != nil {
		return err
	}
	defer poisonPub.Close()
	eventPub, err := redis.NewBatchPublisher(in.RedisOptions, cfg.EventStreamMaxLen, wlog)
	if err != nil {
		return err
	}
	defer eventPub.Close()
	commands, err := messaging.NewCommandRouter(mcfg, s.app, poisonPub, wlog)
	if err != nil {
		return err
	}
	poisoned, err := messaging.NewPoisonRouter(mcfg, s.app, wlog)
	if err != nil {
		return err
	}
	// The relay continues each event's trace (tracing.Relay).
	fwd, err := postgres.NewForwarder(in.Pool, tracing.Relay(eventPub, in.Tracer), cfg.topics(), postgres.ForwarderConfig{PollInterval: cfg.OutboxPollInterval}, wlog)
	if err != nil {
		return err
	}
	webhooks, err := messaging.NewWebhookRouter(mcfg, s.app, wlog)
	if err != nil {
		return err
	}
	forgotten, err := messaging.NewForgottenRouter(mcfg, s.app, wlog)
	if err != nil {
		return err
	}
	dispatch := messaging.DispatcherConfig{
		Concurrency: cfg.Webhooks.Concurrency, PollInterval: cfg.Webhooks.PollInterval, Registerer: in.Registry,
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, r := range []*message.Router{commands, webhooks, poisoned, forgotten} {
		g.Go(func() error { return runRouter(gctx, r) })
	}
	g.Go(func() error {
		return messaging.RunWebhookDispatcher(gctx, dispatch, s.app.Commands.DispatchWebhook, s.log)
	})
	g.Go(func() error { return fwd.Run(gctx) })
	for _, l := range s.loops() {
		g.Go(func() error { runLoop(gctx, s.log, l); return nil })
	}
	s.log.Info("worker running", "consumer", mcfg.Consumer, "concurrency", mcfg.Concurrency)
	err = g.Wait()
	if ctx.Err() != nil {
		return nil // asked to stop: errors from the cancelled routers are expected
	}
	return err
}

// loops are the worker's housekeeping: pruning what outlived its retention,
// resending commands Redis lost, trimming what workers acknowledged.
func (s *Service) loops() []loop {
	cfg, in := s.cfg, s.infra
	dl := in.deadLetters(cfg)
	return []loop{
		{every: time.Hour, done: "pruned outbox rows", level: slog.LevelInfo, run: func(ctx context.Context) (int64, error) {
			return postgres.PruneOutbox(ctx, in.Pool, cfg.OutboxRetention)
		}},
		{every: time.Hour, done: "pruned dead letters", level: slog.LevelInfo, run: func(ctx context.Context) (int64, error) {
			return dl.Prune(ctx, cfg.Protection.DeadLetterRetention)
		}},
		{every: time.Hour, done: "purged expired OAuth rows", level: slog.LevelInfo, run: func(ctx context.Context) (int64, error) {
			return postgres.PurgeExpiredOAuth(ctx, in.Pool, time.Now(), cfg.AccessTokenTTL)
		}},
		// Resending means Redis lost work: worth a warning.
		{every: max(cfg.Protection.ResendAfter/4, time.Second), done: "resent commands no longer on their way", level: slog.LevelWarn,
			run: func(ctx context.Context) (int64, error) {
				n, err := s.app.Commands.ResendLostCommands.Handle(ctx, command.ResendLostCommands{StalledFor: cfg.Protection.ResendAfter})
				return int64(n), err
			}},
		{every: commandTrimEvery, done: "trimmed acknowledged commands", level: slog.LevelDebug, run: s.trimCommandStreams},
	}
}

// runRouter runs r until ctx ends, then closes it: the router stops taking
// messages and waits for those in progress (see messaging.Config.HardStop).
// Closing, rather than cancelling the router's own context, also stops a
// router still subscribing its handlers cleanly, instead of failing them.
func runRouter(ctx context.Context, r *message.Router) error {
	done := make(chan error, 1)
	go func() { done <- r.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-r.Running():
	case err := <-done:
		return err
	}
	select {
	case err := <-done:
		return err // stopped by itself
	case <-ctx.Done():
	}
	closeErr := r.Close()
	return errors.Join(<-done, closeErr)
}

// commandTrimEvery is how often acknowledged commands are trimmed from their
// streams: the text of a memory stays in Redis about this long after its work.
const commandTrimEvery = 10 * time.Second

// trimCommandStreams removes from each command stream what its workers have
// received and acknowledged.
func (s *Service) trimCommandStreams(ctx context.Context) (int64, error) {
	var total int64
	for _, name := range events.CommandNames() {
		n, err := redis.TrimAcknowledged(ctx, s.infra.Redis, s.cfg.topics().Command(name))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// subscriber opens Redis stream subscribers for the messaging port. The
// readers of command streams report to readiness.
func (s *Service) subscriber(wlog watermill.LoggerAdapter) func(messaging.Subscription) (message.Subscriber, error) {
	return func(sub messaging.Subscription) (message.Subscriber, error) {
		cfg := redis.SubscriberConfig{
			ConsumerGroup: sub.ConsumerGroup, Consumer: sub.Consumer, ClaimIdle: s.cfg.WorkerClaimIdle,
			NackResendSleep: sub.NackSleep, Log: s.log,
		}
		if sub.Commands {
			cfg.Health = s.infra.Consumers
		}
		return redis.NewSubscriber(s.infra.RedisOptions, cfg, wlog)
	}
}
