// Package request is what the HTTP-speaking ports share about a request: the
// id of the service's own making, the client's correlation id, and the bearer
// credential.
package request

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

type idKey struct{}

// ID returns the request id WithID gave the request, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// WithID gives every request an id of the service's own making: the request
// id of its audit entries, problems and events, which a client can neither
// choose nor make collide with another request's. A sane X-Request-ID the
// client sent is kept as the correlation id of everything the request causes
// (events' and commands' correlation_id, the audit's correlation_id); without
// one, the correlation id is the request id. A request that already has an
// id (a port mounted inside another) keeps it.
func WithID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ID(r.Context()) != "" {
			next.ServeHTTP(w, r)
			return
		}
		id := uuid.Must(uuid.NewV7()).String()
		correlation := r.Header.Get("X-Request-ID")
		if !saneID(correlation) {
			correlation = id
		}
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), idKey{}, id)
		ctx = events.WithCorrelationID(ctx, correlation)
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

// BearerToken extracts the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}
