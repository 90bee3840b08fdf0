package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// ListApps lists every application, for its operators.
type ListApps struct{}

// ListedApp is an application and the budgets its requests spend from: its
// overrides over the deployment's defaults.
type ListedApp struct {
	App        *application.Application
	RateLimits application.RateLimits
}

type ListAppsHandler decorator.QueryHandler[ListApps, []ListedApp]

type listAppsHandler struct {
	apps     application.Repository
	defaults application.RateLimits
}

// NewListAppsHandler reports limits against defaults, the budgets of an
// application without overrides.
func NewListAppsHandler(apps application.Repository, defaults application.RateLimits, log *slog.Logger, m *decorator.Metrics) ListAppsHandler {
	return decorator.ApplyQueryDecorators[ListApps, []ListedApp](listAppsHandler{apps: apps, defaults: defaults}, log, m)
}

func (h listAppsHandler) Handle(ctx context.Context, _ ListApps) ([]ListedApp, error) {
	apps, err := h.apps.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ListedApp, 0, len(apps))
	for _, a := range apps {
		out = append(out, ListedApp{App: a, RateLimits: a.RateLimits().Or(h.defaults)})
	}
	return out, nil
}
