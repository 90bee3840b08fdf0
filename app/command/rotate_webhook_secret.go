package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// RotateWebhookSecret gives the application's endpoint a new secret; the old
// one keeps signing alongside it for Overlap.
type RotateWebhookSecret struct {
	AppID   string
	Overlap time.Duration
}

// RotateWebhookSecretHandler answers with the new secret, shown only once.
type RotateWebhookSecretHandler decorator.QueryHandler[RotateWebhookSecret, WebhookSecret]

type rotateWebhookSecretHandler struct {
	repo webhook.Repository
	cfg  WebhookConfig
}

func NewRotateWebhookSecretHandler(repo webhook.Repository, cfg WebhookConfig, log *slog.Logger, m *decorator.Metrics) RotateWebhookSecretHandler {
	return decorator.ApplyQueryDecorators[RotateWebhookSecret, WebhookSecret](rotateWebhookSecretHandler{repo: repo, cfg: cfg}, log, m)
}

func (h rotateWebhookSecretHandler) Handle(ctx context.Context, c RotateWebhookSecret) (WebhookSecret, error) {
	secret := webhook.NewSecret()
	var saved *webhook.Endpoint
	err := h.repo.SaveEndpoint(ctx, c.AppID, func(e *webhook.Endpoint) (*webhook.Endpoint, error) {
		if e == nil {
			return nil, errNoWebhook
		}
		saved = e
		return e, e.RotateSecret(secret, c.Overlap, h.cfg.now())
	})
	if err != nil {
		return WebhookSecret{}, err
	}
	return WebhookSecret{Endpoint: saved, Secret: secret.Reveal()}, nil
}
