package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// SetWebhook registers url as the application's endpoint, replacing any
// earlier one (and enabling it again if it was disabled).
type SetWebhook struct {
	AppID string
	URL   string
}

// WebhookSecret is a new signing secret, shown only once.
type WebhookSecret struct {
	Endpoint *webhook.Endpoint
	Secret   string
}

// SetWebhookHandler answers with the new signing secret, so it is shaped like
// a query.
type SetWebhookHandler decorator.QueryHandler[SetWebhook, WebhookSecret]

type setWebhookHandler struct {
	repo webhook.Repository
	cfg  WebhookConfig
}

func NewSetWebhookHandler(repo webhook.Repository, cfg WebhookConfig, log *slog.Logger, m *decorator.Metrics) SetWebhookHandler {
	return decorator.ApplyQueryDecorators[SetWebhook, WebhookSecret](setWebhookHandler{repo: repo, cfg: cfg}, log, m)
}

func (h setWebhookHandler) Handle(ctx context.Context, c SetWebhook) (WebhookSecret, error) {
	secret := webhook.NewSecret()
	now := h.cfg.now()
	var saved *webhook.Endpoint
	err := h.repo.SaveEndpoint(ctx, c.AppID, func(e *webhook.Endpoint) (*webhook.Endpoint, error) {
		if e == nil {
			var err error
			e, err = webhook.NewEndpoint(h.cfg.NewID(), c.AppID, c.URL, secret, h.cfg.URLs, now)
			saved = e
			return e, err
		}
		saved = e
		return e, e.Replace(c.URL, secret, h.cfg.URLs, now)
	})
	if err != nil {
		return WebhookSecret{}, err
	}
	return WebhookSecret{Endpoint: saved, Secret: secret.Reveal()}, nil
}
