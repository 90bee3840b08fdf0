package command

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// DispatchWebhook sends the most overdue pending delivery, if any is due.
type DispatchWebhook struct{}

// Dispatched tells what one dispatch did; Found is false when nothing was due.
type Dispatched struct {
	Found      bool
	DeliveryID string
	Attempt    webhook.Attempt
	Outcome    webhook.Outcome
	Status     webhook.DeliveryStatus // the delivery's status after the attempt
}

// DispatchWebhookHandler is called in a loop by every worker; several may run
// at once, each claiming a different delivery.
type DispatchWebhookHandler struct {
	repo   webhook.Repository
	sender WebhookSender
	cfg    WebhookConfig
}

func NewDispatchWebhookHandler(repo webhook.Repository, sender WebhookSender, cfg WebhookConfig) DispatchWebhookHandler {
	return DispatchWebhookHandler{repo: repo, sender: sender, cfg: cfg}
}

func (h DispatchWebhookHandler) Handle(ctx context.Context, _ DispatchWebhook) (Dispatched, error) {
	c, err := h.repo.ClaimDue(ctx, h.cfg.now(), h.cfg.Lease)
	if err != nil || c == nil {
		return Dispatched{}, err
	}
	return attempt(ctx, h.repo, h.sender, h.cfg, c, false)
}

// attempt sends a claimed delivery once and records what came back.
func attempt(ctx context.Context, repo webhook.Repository, sender WebhookSender, cfg WebhookConfig, c *webhook.Claim, manual bool) (Dispatched, error) {
	now := cfg.now()
	msg := c.Delivery.Message(c.Endpoint, now)
	// A shutdown lets the attempt finish (the sender has its own timeout)
	// rather than cut it short and count a failure the receiver never caused.
	ctx = context.WithoutCancel(ctx)
	res := sender.Send(ctx, msg)
	out := Dispatched{Found: true, DeliveryID: c.Delivery.ID()}
	err := repo.RecordAttempt(ctx, c, func(d *webhook.Delivery, e *webhook.Endpoint) (webhook.Attempt, error) {
		out.Attempt, out.Outcome = d.Apply(e, msg.URL, res, manual, cfg.Retry, now)
		out.Status = d.Status()
		return out.Attempt, nil
	})
	return out, err
}
