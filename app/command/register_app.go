package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// RegisterApp creates an application; the handler returns its one-time API key.
type RegisterApp struct {
	AppID string
	Name  string
}

// AppAdmin manages applications from the command line.
type AppAdmin struct{ apps application.Repository }

func NewAppAdmin(apps application.Repository) AppAdmin { return AppAdmin{apps: apps} }

// Register stores a new application and returns its API key, shown only once.
func (h AppAdmin) Register(ctx context.Context, c RegisterApp) (*application.Application, string, error) {
	key, hash := application.NewAPIKey()
	app, err := application.New(c.AppID, c.Name, hash, time.Now().UTC())
	if err != nil {
		return nil, "", err
	}
	if err := h.apps.Add(ctx, app); err != nil {
		return nil, "", err
	}
	return app, key, nil
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
