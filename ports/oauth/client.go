package oauth

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// client presents an application to zitadel/oidc as a confidential web client.
// Redirect URIs match exactly: it does not implement op.HasRedirectGlobs.
type client struct {
	app      *application.Application
	loginURL func(authRequestID string) string
}

var _ op.Client = client{}

// What every client may do, declared once: zitadel enforces these per client,
// and discovery advertises exactly them.
var (
	responseTypes = []oidc.ResponseType{oidc.ResponseTypeCode}
	grantTypes    = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	// authMethods: a client authenticates with its secret, in the Authorization
	// header or in the form (op.Config.AuthMethodPost); never without it.
	authMethods = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
)

func (c client) GetID() string                    { return c.app.ID() }
func (c client) RedirectURIs() []string           { return c.app.OAuthClient().RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return nil }
func (c client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

// AuthMethod is basic; zitadel accepts the secret in the form body as well when
// AuthMethodPost is on, which covers both of ChatGPT's token exchange methods.
func (c client) AuthMethod() oidc.AuthMethod          { return oidc.AuthMethodBasic }
func (c client) ResponseTypes() []oidc.ResponseType   { return responseTypes }
func (c client) GrantTypes() []oidc.GrantType         { return grantTypes }
func (c client) LoginURL(id string) string            { return c.loginURL(id) }
func (c client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c client) IDTokenLifetime() time.Duration       { return time.Hour }
func (c client) DevMode() bool                        { return false }
func (c client) IsScopeAllowed(scope string) bool     { return oauth.IsSupported(scope) }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c client) ClockSkew() time.Duration             { return 0 }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
