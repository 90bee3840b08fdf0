package command

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// RemoveWebhook deletes the application's endpoint and its deliveries:
// nothing more is sent.
type RemoveWebhook struct{ AppID string }

type RemoveWebhookHandler decorator.CommandHandler[RemoveWebhook]

type removeWebhookHandler struct{ repo webhook.Repository }

func NewRemoveWebhookHandler(repo webhook.Repository, log *slog.Logger, m *decorator.Metrics) RemoveWebhookHandler {
	return decorator.ApplyCommandDecorators[RemoveWebhook](removeWebhookHandler{repo: repo}, log, m)
}

func (h removeWebhookHandler) Handle(ctx context.Context, c RemoveWebhook) error {
	return h.repo.RemoveEndpoint(ctx, c.AppID)
}
