package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// MCPEndpoint asks whether an application's MCP endpoint answers, for its
// protected resource metadata (RFC 9728), which only an endpoint that
// answers has. An unknown, disabled or MCP-less application is
// errs.KindNotFound.
type MCPEndpoint struct{ AppID string }

type MCPEndpointHandler decorator.QueryHandler[MCPEndpoint, struct{}]

type mcpEndpointHandler struct{ apps application.Repository }

func NewMCPEndpointHandler(apps application.Repository, log *slog.Logger, m *decorator.Metrics) MCPEndpointHandler {
	return decorator.ApplyQueryDecorators[MCPEndpoint, struct{}](mcpEndpointHandler{apps: apps}, log, m)
}

var errNoMCPEndpoint = errs.NotFound("mcp-not-enabled", "no such MCP endpoint")

func (h mcpEndpointHandler) Handle(ctx context.Context, q MCPEndpoint) (struct{}, error) {
	app, err := h.apps.Get(ctx, q.AppID)
	if errs.KindOf(err) == errs.KindNotFound {
		return struct{}{}, errNoMCPEndpoint
	}
	if err != nil {
		return struct{}{}, err
	}
	if app.Authorize() != nil || !app.MCPEnabled() {
		return struct{}{}, errNoMCPEndpoint
	}
	return struct{}{}, nil
}
