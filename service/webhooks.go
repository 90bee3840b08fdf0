package service

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	webhooksender "github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
)

// Option changes how New builds a service; component tests use them.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the webhook scheduler and dispatcher read time from now,
// so tests reach retries hours away without waiting.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// wireWebhooks adds the webhook use cases to the application.
func (s *Service) wireWebhooks() {
	cfg := command.WebhookConfig{
		URLs:  webhook.URLPolicy{AllowPrivate: s.cfg.Webhooks.AllowPrivate},
		Retry: webhook.DefaultRetryPolicy,
		// Past the attempt's timeout, so no second dispatcher sends meanwhile.
		Lease: s.cfg.Webhooks.Timeout + 30*time.Second,
		Now:   s.opts.now,
		NewID: newID,
	}
	repo := postgres.NewWebhookRepository(s.pool, s.keyring)
	sender := webhooksender.NewSender(webhooksender.Config{
		Timeout: s.cfg.Webhooks.Timeout, AllowPrivate: s.cfg.Webhooks.AllowPrivate, Registerer: s.registry,
	})
	c := &s.app.Commands
	c.SetWebhook = command.NewSetWebhookHandler(repo, cfg, s.log, s.metrics)
	c.RotateWebhookSecret = command.NewRotateWebhookSecretHandler(repo, cfg, s.log, s.metrics)
	c.RemoveWebhook = command.NewRemoveWebhookHandler(repo, s.log, s.metrics)
	c.ScheduleWebhook = command.NewScheduleWebhookHandler(repo, cfg, s.log, s.metrics)
	c.DispatchWebhook = command.NewDispatchWebhookHandler(repo, sender, cfg)
	c.RedeliverWebhook = command.NewRedeliverWebhookHandler(repo, sender, cfg)
	s.app.Queries.WebhookDeliveries = query.NewWebhookDeliveriesHandler(repo, s.log, s.metrics)
}

// webhookWorkers are the worker's webhook loops: the consumer that queues
// deliveries from the event streams, and the dispatcher that sends them.
func (s *Service) webhookWorkers(mcfg messaging.Config) ([]func(context.Context) error, error) {
	router, err := messaging.NewWebhookRouter(mcfg, s.app, s.wlog)
	if err != nil {
		return nil, err
	}
	dcfg := messaging.DispatcherConfig{
		Concurrency: s.cfg.Webhooks.Concurrency, PollInterval: s.cfg.Webhooks.PollInterval, Registerer: s.registry,
	}
	return []func(context.Context) error{
		router.Run,
		func(ctx context.Context) error {
			return messaging.RunWebhookDispatcher(ctx, dcfg, s.app.Commands.DispatchWebhook, s.log)
		},
	}, nil
}
