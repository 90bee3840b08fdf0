package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// RegisterApp creates an application, which is also a confidential OAuth client
// with the given redirect URIs.
type RegisterApp struct {
	AppID        string
	Name         string
	RedirectURIs []string
}

// Registered is a new application with its credentials, shown only once.
type Registered struct {
	App          *application.Application
	APIKey       string
	ClientSecret string
}

// AppAdmin manages applications from the command line.
type AppAdmin struct {
	apps     application.Repository
	defaults application.RateLimits // the budgets of an application without overrides
}

func NewAppAdmin(apps application.Repository) AppAdmin { return AppAdmin{apps: apps} }

// WithDefaultRateLimits returns h reporting limits against defaults.
func (h AppAdmin) WithDefaultRateLimits(defaults application.RateLimits) AppAdmin {
	h.defaults = defaults
	return h
}

// Register stores a new application and returns its API key and client
// secret, shown only once.
func (h AppAdmin) Register(ctx context.Context, c RegisterApp) (Registered, error) {
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
	return Registered{App: app, APIKey: key, ClientSecret: secret}, nil
}

// AddRedirectURI registers one more callback URL for the application.
func (h AppAdmin) AddRedirectURI(ctx context.Context, appID, uri string) error {
	return h.apps.Update(ctx, appID, func(a *application.Application) error {
		return a.AddRedirectURI(uri, time.Now().UTC())
	})
}

// RotateSecret replaces the client secret and returns the new one; the old one
// stops working at once.
func (h AppAdmin) RotateSecret(ctx context.Context, appID string) (string, error) {
	secret, hash := application.NewClientSecret()
	err := h.apps.Update(ctx, appID, func(a *application.Application) error {
		a.RotateClientSecret(hash, time.Now().UTC())
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RotateKey replaces an application's key and returns the new one; the old one
// stops working at once.
func (h AppAdmin) RotateKey(ctx context.Context, appID string) (string, error) {
	key, hash := application.NewAPIKey()
	err := h.apps.Update(ctx, appID, func(a *application.Application) error {
		return a.RotateKey(hash, time.Now().UTC())
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// Disable stops an application from calling the API.
func (h AppAdmin) Disable(ctx context.Context, appID string) error {
	return h.apps.Update(ctx, appID, func(a *application.Application) error {
		a.Disable(time.Now().UTC())
		return nil
	})
}

// List returns every application.
func (h AppAdmin) List(ctx context.Context) ([]*application.Application, error) {
	return h.apps.List(ctx)
}

// SetRateLimits changes an application's overrides of the default budgets and
// returns the application as stored.
func (h AppAdmin) SetRateLimits(ctx context.Context, appID string, c application.LimitsChange) (*application.Application, error) {
	var out *application.Application
	err := h.apps.Update(ctx, appID, func(a *application.Application) error {
		out = a
		return a.ChangeRateLimits(c, time.Now().UTC())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EffectiveRateLimits are the budgets a's requests spend from: its overrides
// over the deployment's defaults.
func (h AppAdmin) EffectiveRateLimits(a *application.Application) application.RateLimits {
	return a.RateLimits().Or(h.defaults)
}
