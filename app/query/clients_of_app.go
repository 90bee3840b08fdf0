package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// ClientsOfApp lists the clients that registered themselves and asked to
// reach an application's MCP endpoint, revoked ones included.
type ClientsOfApp struct{ AppID string }

type ClientsOfAppHandler decorator.QueryHandler[ClientsOfApp, []oauth.ClientLink]

// ClientLinks reads what ClientsOfApp lists (adapters/postgres.OAuthStore).
type ClientLinks interface {
	ClientsOfApp(ctx context.Context, appID string) ([]oauth.ClientLink, error)
}

type clientsOfAppHandler struct {
	apps  application.Repository
	links ClientLinks
}

func NewClientsOfAppHandler(apps application.Repository, links ClientLinks, log *slog.Logger, m *decorator.Metrics) ClientsOfAppHandler {
	return decorator.ApplyQueryDecorators[ClientsOfApp, []oauth.ClientLink](clientsOfAppHandler{apps: apps, links: links}, log, m)
}

func (h clientsOfAppHandler) Handle(ctx context.Context, q ClientsOfApp) ([]oauth.ClientLink, error) {
	if _, err := h.apps.Get(ctx, q.AppID); err != nil {
		return nil, err
	}
	return h.links.ClientsOfApp(ctx, q.AppID)
}
