package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// SetAppMCP switches an application's MCP endpoint (/mcp/{app_id}) on or off.
type SetAppMCP struct {
	AppID   string
	Enabled bool
}

type SetAppMCPHandler decorator.CommandHandler[SetAppMCP]

type setAppMCPHandler struct{ apps application.Repository }

func NewSetAppMCPHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) SetAppMCPHandler {
	return decorator.ApplyCommandDecorators[SetAppMCP](setAppMCPHandler{apps: apps}, log, m)
}

func (h setAppMCPHandler) Handle(ctx context.Context, c SetAppMCP) error {
	return h.apps.Update(ctx, c.AppID, func(a *application.Application) error {
		a.SetMCP(c.Enabled, time.Now().UTC())
		return nil
	})
}
