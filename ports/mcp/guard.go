package mcp

import (
	"fmt"
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/admission"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// guard settles who calls and whether they may before the SDK reads a byte.
type guard struct {
	app    app.Application
	issuer string
	scopes toolScopes
}

// admit lets through the API key of the application the path names, or an
// access token issued to that application for this endpoint (its audience is
// the endpoint's URL: a GPT's token, for the API, is refused), when the
// endpoint is on, and spends the caller's rate budgets as /api/v1 does.
// Whether an application exists, or has MCP on, is told only to a caller
// holding its credential: anyone else gets the same 401. A token lacking
// the scope of a tool the request calls gets 403 (scope.go).
func (g guard) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID, credential := r.PathValue("app_id"), request.BearerToken(r)
		caller, err := g.app.Queries.Authenticate.Handle(r.Context(),
			query.Authenticate{Credential: credential, Audience: resource.MCP(g.issuer, appID), AppID: appID})
		switch {
		case errs.KindOf(err) == errs.KindUnavailable:
			w.Header().Set("Retry-After", "5")
			problems.Write(w, r, http.StatusServiceUnavailable, "credentials-unverifiable", "", "the credential could not be checked; retry later")
			return
		case err != nil, caller.AppID != appID:
			g.unauthorized(w, r, appID, credential != "")
			return
		case !caller.MCPEnabled:
			problems.Write(w, r, http.StatusNotFound, "mcp-not-enabled", "", "this application's MCP endpoint is not enabled")
			return
		}
		if !g.insufficientScope(w, r, caller, appID) {
			return
		}
		ctx := request.WithCaller(r.Context(), caller)
		if !g.rateLimit(w, r.WithContext(ctx), caller) {
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unauthorized points the client to the endpoint's protected resource
// metadata (RFC 9728 section 5.1), where it finds how to get a token. The
// error code is given only when a credential was sent (RFC 6750 section 3.1).
func (g guard) unauthorized(w http.ResponseWriter, r *http.Request, appID string, sent bool) {
	challenge := fmt.Sprintf(`Bearer resource_metadata=%q`, resource.Metadata(g.issuer, appID))
	if sent {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	problems.Write(w, r, http.StatusUnauthorized, "invalid-credentials", "",
		"this endpoint takes the API key of the application it names, or an access token issued for this endpoint, as Authorization: Bearer")
}

// rateLimit spends the same budgets as /api/v1 and answers a refusal with a
// 429 before the SDK: no tool runs. A failing limiter lets the call through,
// as the API's does (fail open; the decorator logged it).
func (g guard) rateLimit(w http.ResponseWriter, r *http.Request, caller query.Caller) bool {
	if g.app.Commands.AdmitRequest == nil {
		return true
	}
	adm, err := admission.Spend(r, g.app.Commands, caller)
	if err != nil || adm.Refused == "" {
		return true
	}
	problems.RateLimited(w, r, adm)
	return false
}
