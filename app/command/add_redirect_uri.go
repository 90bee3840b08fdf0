package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// AddRedirectURI registers one more OAuth callback URL of an application.
type AddRedirectURI struct {
	AppID string
	URI   string
}

type AddRedirectURIHandler decorator.CommandHandler[AddRedirectURI]

type addRedirectURIHandler struct{ apps application.Repository }

func NewAddRedirectURIHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) AddRedirectURIHandler {
	return decorator.ApplyCommandDecorators[AddRedirectURI](addRedirectURIHandler{apps: apps}, log, m)
}

func (h addRedirectURIHandler) Handle(ctx context.Context, c AddRedirectURI) error {
	return h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		return a.AddRedirectURI(c.URI, time.Now().UTC())
	})
}
