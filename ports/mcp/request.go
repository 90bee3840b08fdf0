package mcp

import (
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// named gives the request the service's id, as ports/http does (the HTTP
// port's own when it mounted this one), and marks everything the request
// causes as come through MCP.
func named(next http.Handler) http.Handler {
	return request.WithID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(events.WithChannel(r.Context(), events.ChannelMCP)))
	}))
}
