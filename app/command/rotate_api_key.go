package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// RotateAPIKey replaces an application's API key; the old one stops working
// at once.
type RotateAPIKey struct{ AppID string }

// RotateAPIKeyHandler answers with the new key, shown only once.
type RotateAPIKeyHandler decorator.QueryHandler[RotateAPIKey, string]

type rotateAPIKeyHandler struct{ apps application.Repository }

func NewRotateAPIKeyHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) RotateAPIKeyHandler {
	return decorator.ApplyQueryDecorators[RotateAPIKey, string](rotateAPIKeyHandler{apps: apps}, log, m)
}

func (h rotateAPIKeyHandler) Handle(ctx context.Context, c RotateAPIKey) (string, error) {
	key, hash := application.NewAPIKey()
	err := h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		return a.RotateKey(hash, time.Now().UTC())
	})
	if err != nil {
		return "", err
	}
	return key, nil
}
