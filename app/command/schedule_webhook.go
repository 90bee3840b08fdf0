package command

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// ScheduleWebhook queues one event for the webhook of the application it
// belongs to, if that application has an active one.
type ScheduleWebhook struct {
	EventID    string // the event message's id: the delivery's webhook-id
	EventName  string // e.g. MemoryCreated
	AppID      string
	OccurredAt time.Time
	Data       json.RawMessage // the event's payload, sent as is
	// Trace is the W3C traceparent of the event's handling, "" untraced:
	// the delivery's attempts are sent in its trace.
	Trace string
}

type ScheduleWebhookHandler decorator.CommandHandler[ScheduleWebhook]

type scheduleWebhookHandler struct {
	repo webhook.Repository
	cfg  WebhookConfig
}

func NewScheduleWebhookHandler(repo webhook.Repository, cfg WebhookConfig, log *slog.Logger, m *decorator.Metrics) ScheduleWebhookHandler {
	return decorator.ApplyCommandDecorators[ScheduleWebhook](scheduleWebhookHandler{repo: repo, cfg: cfg}, log, m)
}

// Handle is idempotent: the same event scheduled twice (the stream delivers
// at least once) makes one delivery.
func (h scheduleWebhookHandler) Handle(ctx context.Context, c ScheduleWebhook) error {
	eventType, ok := events.CloudEventType(c.EventName)
	if !ok {
		return errs.Invalid("event", "event-unknown", "no CloudEvent type for event "+c.EventName)
	}
	e, err := h.repo.Endpoint(ctx, c.AppID)
	if isNotFound(err) {
		return nil // the application has no webhook
	}
	if err != nil {
		return err
	}
	if !e.Active() {
		return nil
	}
	now := h.cfg.now()
	occurred := c.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	body, err := webhook.Payload(eventType, occurred, c.Data)
	if err != nil {
		return err
	}
	d, err := webhook.NewDelivery(h.cfg.NewID(), e, c.EventID, eventType, body, c.Trace, now)
	if err != nil {
		return err
	}
	_, err = h.repo.AddDelivery(ctx, d)
	return err
}
