package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// SetAppMCP switches an application's MCP endpoint (/mcp/{app_id}) on or
// off, and changes which redirect hosts clients that register themselves may
// use there beyond the defaults: cleared first, when asked, then added to.
type SetAppMCP struct {
	AppID              string
	Enabled            *bool // nil: left as it is
	ClearRedirectHosts bool
	AllowRedirectHosts []string
}

type SetAppMCPHandler decorator.CommandHandler[SetAppMCP]

type setAppMCPHandler struct{ apps application.Repository }

func NewSetAppMCPHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) SetAppMCPHandler {
	return decorator.ApplyCommandDecorators[SetAppMCP](setAppMCPHandler{apps: apps}, log, m)
}

func (h setAppMCPHandler) Handle(ctx context.Context, c SetAppMCP) error {
	return h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		now := time.Now().UTC()
		if c.Enabled != nil {
			a.SetMCP(*c.Enabled, now)
		}
		if c.ClearRedirectHosts {
			a.ClearMCPRedirectHosts(now)
		}
		return a.AllowMCPRedirectHosts(c.AllowRedirectHosts, now)
	})
}
