package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// RegisterApp creates an application, which is also a confidential OAuth client
// with the given redirect URIs.
type RegisterApp struct {
	AppID        string
	Name         string
	RedirectURIs []string
}

// Registered is a new application with its credentials, shown only once, and
// the budgets its requests spend from.
type Registered struct {
	App          *application.Application
	RateLimits   application.RateLimits // effective: its overrides over the defaults
	APIKey       string
	ClientSecret string
}

// RegisterAppHandler answers with the credentials it made, so it is shaped
// like a query.
type RegisterAppHandler decorator.QueryHandler[RegisterApp, Registered]

type registerAppHandler struct {
	apps     application.Repository
	defaults application.RateLimits
}

// NewRegisterAppHandler reports limits against defaults, the budgets of an
// application without overrides.
func NewRegisterAppHandler(apps application.Repository, defaults application.RateLimits, log *slog.Logger, m *decorator.Metrics) RegisterAppHandler {
	return decorator.ApplyQueryDecorators[RegisterApp, Registered](registerAppHandler{apps: apps, defaults: defaults}, log, m)
}

// Handle stores a new application and returns its API key and client
// secret, shown only once.
func (h registerAppHandler) Handle(ctx context.Context, c RegisterApp) (Registered, error) {
	now := time.Now().UTC()
	key, hash := application.NewAPIKey()
	app, err := application.New(c.AppID, c.Name, hash, now)
	if err != nil {
		return Registered{}, err
	}
	secret, secretHash := application.NewClientSecret()
	app.RotateClientSecret(secretHash, now)
	for _, uri := range c.RedirectURIs {
		if err := app.AddRedirectURI(uri, now); err != nil {
			return Registered{}, err
		}
	}
	if err := h.apps.Add(ctx, app); err != nil {
		return Registered{}, err
	}
	return Registered{App: app, RateLimits: app.RateLimits().Or(h.defaults), APIKey: key, ClientSecret: secret}, nil
}
