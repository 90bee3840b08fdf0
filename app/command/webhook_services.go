package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// WebhookSender makes one HTTP attempt; every outcome, a transport error
// included, comes back as a Result.
type WebhookSender interface {
	Send(ctx context.Context, m webhook.Message) webhook.Result
}

// WebhookConfig holds what every webhook use case shares.
type WebhookConfig struct {
	URLs  webhook.URLPolicy
	Retry webhook.RetryPolicy
	// Lease is how long a dispatcher owns a claimed delivery: longer than one
	// attempt's timeout, so no other dispatcher sends it meanwhile.
	Lease time.Duration
	// Now is the clock; tests move it to reach retries without waiting.
	Now func() time.Time
	// NewID names new endpoints and deliveries.
	NewID func() string
}

func (c WebhookConfig) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}
