package mcp

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"
)

// protectedResource is an MCP endpoint's metadata (RFC 9728 section 2): where
// a client learns which authorization server issues its tokens.
type protectedResource struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
}

// metadata serves the document of an endpoint that answers; any other is 404,
// so a client is sent to sign in only where signing in can work.
func (g guard) metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID := r.PathValue("app_id")
		_, err := g.app.Queries.MCPEndpoint.Handle(r.Context(), query.MCPEndpoint{AppID: appID})
		switch {
		case errs.KindOf(err) == errs.KindNotFound:
			problems.Write(w, r, http.StatusNotFound, "not-found", "", "no such MCP endpoint")
			return
		case err != nil:
			w.Header().Set("Retry-After", "5")
			problems.Write(w, r, http.StatusServiceUnavailable, "metadata-unavailable", "", "the endpoint could not be looked up; retry later")
			return
		}
		body, _ := json.Marshal(protectedResource{ // strings only: cannot fail
			Resource:               resource.MCP(g.issuer, appID),
			AuthorizationServers:   []string{g.issuer},
			ScopesSupported:        oauth.Supported,
			BearerMethodsSupported: []string{"header"},
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
