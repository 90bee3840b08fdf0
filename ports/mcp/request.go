package mcp

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

type requestIDKey struct{}

type callerKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func callerFrom(ctx context.Context) query.Caller {
	c, _ := ctx.Value(callerKey{}).(query.Caller)
	return c
}

// withRequestID names the request as ports/http does (a UUIDv7 of our own
// making, never the client's), keeps a sane X-Request-ID as the correlation
// id, and marks everything the request causes as come through MCP. The port
// names its own id because it cannot read the HTTP port's, which it replaces
// in the X-Request-ID answer header.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := uuid.Must(uuid.NewV7()).String()
		correlation := r.Header.Get("X-Request-ID")
		if !saneID(correlation) {
			correlation = id
		}
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = events.WithCorrelationID(ctx, correlation)
		ctx = events.WithChannel(ctx, events.ChannelMCP)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func saneID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
