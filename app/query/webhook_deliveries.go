package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

const (
	defaultDeliveryPage = 50
	maxDeliveryPage     = 500
)

// WebhookDeliveries reads an application's endpoint and its newest
// deliveries, each with every attempt. A zero Limit takes the default.
type WebhookDeliveries struct {
	AppID string
	Limit int
}

// DeliveryReport is the endpoint (nil when the application has none) and its
// deliveries, newest first.
type DeliveryReport struct {
	Endpoint   *webhook.Endpoint
	Deliveries []webhook.DeliveryLog
}

// WebhookLog reads endpoints and delivery logs.
type WebhookLog interface {
	Endpoint(ctx context.Context, appID string) (*webhook.Endpoint, error)
	Deliveries(ctx context.Context, appID string, limit int) ([]webhook.DeliveryLog, error)
}

type WebhookDeliveriesHandler decorator.QueryHandler[WebhookDeliveries, DeliveryReport]

type webhookDeliveriesHandler struct{ log WebhookLog }

func NewWebhookDeliveriesHandler(repo WebhookLog, log *slog.Logger, m *decorator.Metrics) WebhookDeliveriesHandler {
	return decorator.ApplyQueryDecorators[WebhookDeliveries, DeliveryReport](webhookDeliveriesHandler{log: repo}, log, m)
}

func (h webhookDeliveriesHandler) Handle(ctx context.Context, q WebhookDeliveries) (DeliveryReport, error) {
	limit := q.Limit
	if limit == 0 {
		limit = defaultDeliveryPage
	}
	if limit < 1 || limit > maxDeliveryPage {
		return DeliveryReport{}, errs.Invalid("limit", "limit-out-of-range", "limit must be between 1 and 500")
	}
	var r DeliveryReport
	e, err := h.log.Endpoint(ctx, q.AppID)
	switch {
	case err == nil:
		r.Endpoint = e
	case errs.KindOf(err) != errs.KindNotFound:
		return DeliveryReport{}, err
	}
	if r.Deliveries, err = h.log.Deliveries(ctx, q.AppID, limit); err != nil {
		return DeliveryReport{}, err
	}
	return r, nil
}
