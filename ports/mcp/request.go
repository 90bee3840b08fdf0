package mcp

import (
	"context"
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type callerKey struct{}

func callerFrom(ctx context.Context) query.Caller {
	c, _ := ctx.Value(callerKey{}).(query.Caller)
	return c
}

// named gives the request the service's id, as ports/http does (the HTTP
// port's own when it mounted this one), and marks everything the request
// causes as come through MCP.
func named(next http.Handler) http.Handler {
	return request.WithID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(events.WithChannel(r.Context(), events.ChannelMCP)))
	}))
}
