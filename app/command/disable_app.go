package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// DisableApp stops an application from calling the API.
type DisableApp struct{ AppID string }

type DisableAppHandler decorator.CommandHandler[DisableApp]

type disableAppHandler struct{ apps application.Repository }

func NewDisableAppHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) DisableAppHandler {
	return decorator.ApplyCommandDecorators[DisableApp](disableAppHandler{apps: apps}, log, m)
}

func (h disableAppHandler) Handle(ctx context.Context, c DisableApp) error {
	return h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		a.Disable(time.Now().UTC())
		return nil
	})
}
