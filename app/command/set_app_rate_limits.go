package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// SetAppRateLimits changes an application's overrides of the default request
// budgets: each value given replaces that override, the others stay; Reset
// first goes back to the defaults for all four.
type SetAppRateLimits struct {
	AppID         string
	Reset         bool
	AppPerSecond  *int
	AppBurst      *int
	UserPerSecond *int
	UserBurst     *int
}

// AppRateLimits is an application as stored and the budgets its requests
// spend from: its overrides over the deployment's defaults.
type AppRateLimits struct {
	App        *application.Application
	RateLimits application.RateLimits
}

// SetAppRateLimitsHandler answers with the limits as stored, so it is shaped
// like a query.
type SetAppRateLimitsHandler decorator.QueryHandler[SetAppRateLimits, AppRateLimits]

type setAppRateLimitsHandler struct {
	apps     application.Repository
	defaults application.RateLimits
}

// NewSetAppRateLimitsHandler reports limits against defaults, the budgets of
// an application without overrides.
func NewSetAppRateLimitsHandler(apps application.Repository, defaults application.RateLimits, log *slog.Logger, m *decorator.Metrics) SetAppRateLimitsHandler {
	return decorator.ApplyQueryDecorators[SetAppRateLimits, AppRateLimits](setAppRateLimitsHandler{apps: apps, defaults: defaults}, log, m)
}

func (h setAppRateLimitsHandler) Handle(ctx context.Context, c SetAppRateLimits) (AppRateLimits, error) {
	change := application.LimitsChange{Reset: c.Reset, AppPerSecond: c.AppPerSecond, AppBurst: c.AppBurst,
		UserPerSecond: c.UserPerSecond, UserBurst: c.UserBurst}
	var out *application.Application
	err := h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		out = a
		return a.ChangeRateLimits(change, time.Now().UTC())
	})
	if err != nil {
		return AppRateLimits{}, err
	}
	return AppRateLimits{App: out, RateLimits: out.RateLimits().Or(h.defaults)}, nil
}
