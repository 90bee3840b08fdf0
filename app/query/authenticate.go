package query

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// Authenticate resolves a bearer credential: an application's API key, or an
// OAuth access token issued to an application for an end user (or for itself)
// for the resource Audience names: an MCP endpoint's URL, or the API (the
// issuer) when empty. A token for another resource is refused.
type Authenticate struct {
	Credential string
	Audience   string
	// AppID is the application whose MCP endpoint Audience is. A token for
	// it acts in that application, whichever client holds it: one that
	// registered itself has no application of its own.
	AppID string
}

// Caller is who a request acts for; every memory scope is derived from it.
type Caller struct {
	AppID   string
	EndUser string // empty when the application acts for itself
	Scopes  string // granted scopes, space-separated
	// Limits are the application's overrides of the default request budgets,
	// loaded with it so that rate limiting needs no second lookup.
	Limits application.RateLimits
	// APIKey is set when the credential was the application's API key, not
	// an access token.
	APIKey bool
	// MCPEnabled tells whether the application's MCP endpoint answers.
	MCPEnabled bool
	// Expires is when the credential stops being good by itself (an access
	// token's exp); zero for an API key.
	Expires time.Time
}

// Allows tells whether the caller was granted scope.
func (c Caller) Allows(scope string) bool { return oauth.ParseScopes(c.Scopes).Has(scope) }

type AuthenticateHandler decorator.QueryHandler[Authenticate, Caller]

type authenticateHandler struct {
	apps   application.Repository
	tokens AccessTokens // nil: API keys only
}

func NewAuthenticateHandler(apps application.Repository, tokens AccessTokens, log *slog.Logger, m *decorator.Metrics) AuthenticateHandler {
	return decorator.ApplyQueryDecorators[Authenticate, Caller](authenticateHandler{apps: apps, tokens: tokens}, log, m)
}

var errBadCredential = errs.Unauthorized("invalid-credentials", "the API key or access token is missing or unknown")

// Handle answers a failed lookup (the database unreachable) as unavailable,
// so the caller is told to retry rather than shown an internal error.
func (h authenticateHandler) Handle(ctx context.Context, q Authenticate) (Caller, error) {
	var c Caller
	var err error
	switch {
	case application.LooksLikeAPIKey(q.Credential):
		c, err = h.apiKey(ctx, q.Credential)
	case h.tokens != nil && strings.Count(q.Credential, ".") == 2:
		c, err = h.accessToken(ctx, q)
	default:
		return Caller{}, errBadCredential
	}
	if err != nil && errs.KindOf(err) == errs.KindInternal {
		return Caller{}, errs.Unavailable("credentials-unverifiable", "the credential could not be checked; retry later", err)
	}
	return c, err
}

// apiKey: a key is the application's own full access, for single-user setups.
func (h authenticateHandler) apiKey(ctx context.Context, key string) (Caller, error) {
	app, err := h.apps.ByKeyHash(ctx, application.HashAPIKey(key))
	if errs.KindOf(err) == errs.KindNotFound {
		return Caller{}, errBadCredential
	}
	if err != nil {
		return Caller{}, err
	}
	if err := app.Authorize(); err != nil {
		return Caller{}, err
	}
	return Caller{AppID: app.ID(), Scopes: oauth.Scopes(oauth.Supported).String(), Limits: app.RateLimits(),
		APIKey: true, MCPEnabled: app.MCPEnabled()}, nil
}

// accessToken: the subject is the end user, or the application itself for a
// client_credentials token, whose subject is its client id.
func (h authenticateHandler) accessToken(ctx context.Context, q Authenticate) (Caller, error) {
	at, err := h.tokens.VerifyAccessTokenFor(ctx, q.Credential, q.Audience)
	if err != nil {
		return Caller{}, err
	}
	appID := at.ClientID
	if q.AppID != "" && q.Audience != "" {
		appID = q.AppID
	}
	app, err := h.apps.Get(ctx, appID)
	if errs.KindOf(err) == errs.KindNotFound {
		return Caller{}, errs.Unauthorized("invalid-token", "the token's client no longer exists")
	}
	if err != nil {
		return Caller{}, err
	}
	if err := app.Authorize(); err != nil {
		return Caller{}, err
	}
	c := Caller{AppID: app.ID(), Scopes: oauth.Scopes(at.Scope).String(), Limits: app.RateLimits(), MCPEnabled: app.MCPEnabled(),
		Expires: at.ExpiresAt}
	if at.Subject != at.ClientID {
		c.EndUser = at.Subject
	}
	return c, nil
}
