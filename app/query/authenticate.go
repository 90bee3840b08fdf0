package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Authenticate resolves an API key to the application that holds it.
type Authenticate struct{ APIKey string }

// Caller is who a request acts for; every scope is derived from it.
type Caller struct {
	AppID   string
	EndUser string
}

type AuthenticateHandler decorator.QueryHandler[Authenticate, Caller]

type authenticateHandler struct{ apps application.Repository }

func NewAuthenticateHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) AuthenticateHandler {
	return decorator.ApplyQueryDecorators[Authenticate, Caller](authenticateHandler{apps: apps}, log, m)
}

func (h authenticateHandler) Handle(ctx context.Context, q Authenticate) (Caller, error) {
	if !application.LooksLikeAPIKey(q.APIKey) {
		return Caller{}, errs.Unauthorized("invalid-credentials", "the API key is missing or unknown")
	}
	app, err := h.apps.ByKeyHash(ctx, application.HashAPIKey(q.APIKey))
	if errs.KindOf(err) == errs.KindNotFound {
		return Caller{}, errs.Unauthorized("invalid-credentials", "the API key is missing or unknown")
	}
	if err != nil {
		return Caller{}, err
	}
	if err := app.Authorize(); err != nil {
		return Caller{}, err
	}
	return Caller{AppID: app.ID()}, nil
}
