package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// RotateClientSecret replaces an application's OAuth client secret; the old
// one stops working at once.
type RotateClientSecret struct{ AppID string }

// RotateClientSecretHandler answers with the new secret, shown only once.
type RotateClientSecretHandler decorator.QueryHandler[RotateClientSecret, string]

type rotateClientSecretHandler struct{ apps application.Repository }

func NewRotateClientSecretHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) RotateClientSecretHandler {
	return decorator.ApplyQueryDecorators[RotateClientSecret, string](rotateClientSecretHandler{apps: apps}, log, m)
}

func (h rotateClientSecretHandler) Handle(ctx context.Context, c RotateClientSecret) (string, error) {
	secret, hash := application.NewClientSecret()
	err := h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		a.RotateClientSecret(hash, time.Now().UTC())
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}
