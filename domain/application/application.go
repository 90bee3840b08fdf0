// Package application models a registered client of the service: one Custom GPT
// (or other integration) with its own credentials and isolated memory space.
package application

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Status tells whether an application may call the API.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

const maxNameChars = 200

// Application is a registered client. Only the hash of its API key is kept.
type Application struct {
	id     string
	name   string
	status Status
	mcp    bool // the MCP endpoint answers (SetMCP)
	// mcpRedirectHosts widen the redirect URIs that clients registering
	// themselves may use (AllowsMCPRedirect).
	mcpRedirectHosts []string
	keyHash          []byte
	client           OAuthClient
	limits           RateLimits // overrides of the default budgets
	createdAt        time.Time
	updatedAt        time.Time
}

// New registers an application under a fresh id with the hash of its first key.
func New(id, name string, keyHash []byte, now time.Time) (*Application, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameChars {
		return nil, errs.Invalid("name", "name-invalid", "name must be 1 to 200 characters")
	}
	if id == "" || strings.Contains(id, ":") {
		return nil, errs.Invalid("app_id", "app-id-invalid", "application id must be non-empty and contain no ':'")
	}
	if len(keyHash) == 0 {
		return nil, errs.Invalid("api_key", "key-missing", "an application needs a key")
	}
	return &Application{id: id, name: name, status: StatusActive, keyHash: keyHash, createdAt: now, updatedAt: now}, nil
}

// UnmarshalFromDatabase rebuilds an application from storage; adapters only.
func UnmarshalFromDatabase(id, name string, status Status, keyHash []byte, client OAuthClient, createdAt, updatedAt time.Time) *Application {
	return &Application{id: id, name: name, status: status, keyHash: keyHash, client: client, createdAt: createdAt, updatedAt: updatedAt}
}

func (a *Application) ID() string               { return a.id }
func (a *Application) Name() string             { return a.name }
func (a *Application) Status() Status           { return a.status }
func (a *Application) KeyHash() []byte          { return a.keyHash }
func (a *Application) OAuthClient() OAuthClient { return a.client }
func (a *Application) CreatedAt() time.Time     { return a.createdAt }
func (a *Application) UpdatedAt() time.Time     { return a.updatedAt }

// Authorize refuses a disabled application: its key is known but it may not act.
func (a *Application) Authorize() error {
	if a.status != StatusActive {
		return errs.Forbidden("application-disabled", "this application is disabled")
	}
	return nil
}

// Disable stops the application from calling the API; its memories stay.
func (a *Application) Disable(now time.Time) {
	a.status = StatusDisabled
	a.updatedAt = now
}

// RotateKey replaces the key; the old one stops working at once.
func (a *Application) RotateKey(keyHash []byte, now time.Time) error {
	if len(keyHash) == 0 {
		return errs.Invalid("api_key", "key-missing", "an application needs a key")
	}
	a.keyHash = keyHash
	a.updatedAt = now
	return nil
}

// Repository stores applications.
type Repository interface {
	Add(ctx context.Context, app *Application) error
	// Get returns errs.KindNotFound when no application has that id.
	Get(ctx context.Context, id string) (*Application, error)
	// ByKeyHash returns errs.KindNotFound when no application holds that key.
	ByKeyHash(ctx context.Context, keyHash []byte) (*Application, error)
	List(ctx context.Context) ([]*Application, error)
	// Update loads the application, applies fn and saves it in one transaction.
	Update(ctx context.Context, id string, fn func(*Application) error) error
}
