package command

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// RedeliverWebhook sends one delivery again now, whatever its status, to the
// application's current endpoint. It is one manual attempt: a success marks
// the delivery delivered; a failure changes nothing but the log, and a
// disabled endpoint must be registered again first.
type RedeliverWebhook struct{ DeliveryID string }

type RedeliverWebhookHandler struct {
	repo   webhook.Repository
	sender WebhookSender
	cfg    WebhookConfig
}

func NewRedeliverWebhookHandler(repo webhook.Repository, sender WebhookSender, cfg WebhookConfig) RedeliverWebhookHandler {
	return RedeliverWebhookHandler{repo: repo, sender: sender, cfg: cfg}
}

func (h RedeliverWebhookHandler) Handle(ctx context.Context, c RedeliverWebhook) (Dispatched, error) {
	claim, err := h.repo.ClaimByID(ctx, c.DeliveryID, h.cfg.now(), h.cfg.Lease)
	if err != nil {
		return Dispatched{}, err
	}
	return attempt(ctx, h.repo, h.sender, h.cfg, claim, true)
}
