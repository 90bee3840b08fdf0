package command

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// RevokeClient stops a client that registered itself from reaching an
// application: every grant it holds there ends with its tokens, and its
// sign-ins there are refused from then on.
type RevokeClient struct{ AppID, ClientID string }

type RevokeClientHandler decorator.CommandHandler[RevokeClient]

// ClientRevoker ends a registered client's access to an application
// (adapters/postgres.OAuthStore); an unknown client is oauth.ErrNotFound.
type ClientRevoker interface {
	RevokeClient(ctx context.Context, appID, clientID string, now time.Time) error
}

type revokeClientHandler struct {
	apps    application.Repository
	clients ClientRevoker
}

func NewRevokeClientHandler(apps application.Repository, clients ClientRevoker, log *slog.Logger, m *decorator.Metrics) RevokeClientHandler {
	return decorator.ApplyCommandDecorators[RevokeClient](revokeClientHandler{apps: apps, clients: clients}, log, m)
}

func (h revokeClientHandler) Handle(ctx context.Context, c RevokeClient) error {
	if _, err := h.apps.Get(ctx, c.AppID); err != nil {
		return err
	}
	if !oauth.IsRegisteredClientID(c.ClientID) {
		return errs.Invalid("client_id", "not-a-registered-client",
			"only clients that registered themselves can be revoked; an application's own client is disabled with the application")
	}
	err := h.clients.RevokeClient(ctx, c.AppID, c.ClientID, time.Now().UTC())
	if errors.Is(err, oauth.ErrNotFound) {
		return errs.NotFound("client-not-found", "no client registered with this id")
	}
	return err
}
