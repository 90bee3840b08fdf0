package messaging

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// scheduleWebhooksHandler is stable: it names the consumer group that reads
// each event stream for webhooks, apart from every other subscriber.
const scheduleWebhooksHandler = "ScheduleWebhooks"

// NewWebhookRouter consumes the events sent to webhooks (webhookEvents) and
// queues a delivery for each, when its application has a webhook.
func NewWebhookRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	return newEventRouter(cfg, logger, scheduleWebhooksHandler, webhookEvents(), func(name string) message.NoPublishHandlerFunc {
		return scheduleWebhook(application, name, logger)
	})
}

// scheduleWebhook translates an event message: its UUID is the event id
// (the CloudEvent id and the webhook-id), its payload is sent as data.
func scheduleWebhook(a app.Application, name string, logger watermill.LoggerAdapter) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		var head struct {
			AppID      string    `json:"app_id"`
			OccurredAt time.Time `json:"occurred_at"`
		}
		if err := json.Unmarshal(msg.Payload, &head); err != nil || head.AppID == "" {
			// Nothing this version can deliver: nacked, it would come back forever.
			logger.Error("undecodable event dropped by webhooks", err, watermill.LogFields{"uuid": msg.UUID, "name": name})
			return nil
		}
		ctx := events.WithCorrelationID(msg.Context(), middleware.MessageCorrelationID(msg))
		return a.Commands.ScheduleWebhook.Handle(ctx, command.ScheduleWebhook{
			EventID: msg.UUID, EventName: name, AppID: head.AppID, OccurredAt: head.OccurredAt, Data: json.RawMessage(msg.Payload),
			Trace: tracing.TraceParent(ctx),
		})
	}
}

// DispatcherConfig tunes the webhook dispatcher.
type DispatcherConfig struct {
	Concurrency  int           // deliveries sent at once by this process
	PollInterval time.Duration // how long an idle sender waits before looking again
	Registerer   prometheus.Registerer
}

// RunWebhookDispatcher sends due deliveries until ctx ends. Each of
// Concurrency loops claims one delivery at a time, so a slow receiver holds
// up only its own loop; loops in other processes claim other deliveries.
func RunWebhookDispatcher(ctx context.Context, cfg DispatcherConfig, h command.DispatchWebhookHandler, log *slog.Logger) error {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custom_gpt_webhook_deliveries_total",
		Help: "Webhook delivery attempts by what they did to their delivery (succeeded, retrying, failed, gone).",
	}, []string{"outcome"})
	outcomes, err := promreg.Register(cfg.Registerer, outcomes)
	if err != nil {
		return err
	}
	for _, o := range []webhook.Outcome{webhook.OutcomeSucceeded, webhook.OutcomeRetrying, webhook.OutcomeFailed, webhook.OutcomeGone} {
		outcomes.WithLabelValues(string(o))
	}
	done := make(chan struct{})
	n := max(cfg.Concurrency, 1)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			for ctx.Err() == nil {
				d, err := h.Handle(ctx, command.DispatchWebhook{})
				if err != nil && ctx.Err() == nil {
					log.WarnContext(ctx, "webhook dispatch failed", "error", err, "delivery_id", d.DeliveryID)
				}
				if d.Found {
					outcomes.WithLabelValues(string(d.Outcome)).Inc()
					if err == nil {
						continue // more may be due
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(cfg.PollInterval):
				}
			}
		}()
	}
	for range n {
		<-done
	}
	return nil
}
