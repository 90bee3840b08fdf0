package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// WebhookAdmin manages applications' webhook endpoints from the command line.
type WebhookAdmin struct {
	repo webhook.Repository
	cfg  WebhookConfig
}

func NewWebhookAdmin(repo webhook.Repository, cfg WebhookConfig) WebhookAdmin {
	return WebhookAdmin{repo: repo, cfg: cfg}
}

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

func (h WebhookAdmin) Set(ctx context.Context, c SetWebhook) (WebhookSecret, error) {
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

// RotateSecret gives the endpoint a new secret; the old one keeps signing
// alongside it for overlap.
func (h WebhookAdmin) RotateSecret(ctx context.Context, appID string, overlap time.Duration) (WebhookSecret, error) {
	secret := webhook.NewSecret()
	var saved *webhook.Endpoint
	err := h.repo.SaveEndpoint(ctx, appID, func(e *webhook.Endpoint) (*webhook.Endpoint, error) {
		if e == nil {
			return nil, errNoWebhook
		}
		saved = e
		return e, e.RotateSecret(secret, overlap, h.cfg.now())
	})
	if err != nil {
		return WebhookSecret{}, err
	}
	return WebhookSecret{Endpoint: saved, Secret: secret.Reveal()}, nil
}

// Remove deletes the application's endpoint and its deliveries: nothing more
// is sent.
func (h WebhookAdmin) Remove(ctx context.Context, appID string) error {
	return h.repo.RemoveEndpoint(ctx, appID)
}
