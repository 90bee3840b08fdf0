package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// registeredClient presents a client that registered itself to zitadel as a
// native client: redirect URIs match exactly, but a loopback one on any port
// (RFC 8252 7.3). It may use the authorization code, with PKCE S256 (the
// server's Authorize insists, as it asks for a resource), and refresh tokens.
type registeredClient struct {
	c        *oauth.Client
	loginURL func(authRequestID string) string
}

var _ op.Client = registeredClient{}

var registeredGrantTypes = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}

func (c registeredClient) GetID() string                    { return c.c.ID }
func (c registeredClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c registeredClient) PostLogoutRedirectURIs() []string { return nil }
func (c registeredClient) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeNative
}
func (c registeredClient) AuthMethod() oidc.AuthMethod {
	switch c.c.AuthMethod {
	case oauth.AuthSecretBasic:
		return oidc.AuthMethodBasic
	case oauth.AuthSecretPost:
		return oidc.AuthMethodPost
	}
	return oidc.AuthMethodNone
}
func (c registeredClient) ResponseTypes() []oidc.ResponseType   { return responseTypes }
func (c registeredClient) GrantTypes() []oidc.GrantType         { return registeredGrantTypes }
func (c registeredClient) LoginURL(id string) string            { return c.loginURL(id) }
func (c registeredClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c registeredClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (c registeredClient) DevMode() bool                        { return false }
func (c registeredClient) IsScopeAllowed(scope string) bool     { return oauth.IsSupported(scope) }
func (c registeredClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c registeredClient) ClockSkew() time.Duration             { return 0 }
func (c registeredClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c registeredClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// Metadata documents are kept at least this long, whatever their cache
// headers say, so one client's sign-ins cannot make this server fetch on
// every request; and at most a day, so a changed document is seen.
const (
	minDocumentAge = 5 * time.Minute
	maxDocumentAge = 24 * time.Hour
)

// registeredClient finds a client that registered itself: a metadata
// document is fetched when not known or no longer fresh. Refusals are
// invalid_client, with a description the person signing in can act on.
func (s *storage) registeredClient(ctx context.Context, id string) (*oauth.Client, error) {
	c, err := s.store.Client(ctx, id)
	switch {
	case err == nil && (c.Kind == oauth.KindRegistered || s.now().Before(c.RefreshAt)):
		return c, nil
	case err != nil && !errors.Is(err, oauth.ErrNotFound):
		return nil, oidc.ErrServerError().WithParent(err)
	case !oauth.IsMetadataDocumentURL(id):
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	case s.documents == nil:
		return nil, oidc.ErrInvalidClient().WithDescription("this server does not accept client metadata documents")
	}
	doc, maxAge, err := s.documents.Fetch(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("%s", err.Error())
	}
	m, err := oauth.ParseMetadataDocument(id, doc)
	if err != nil {
		var oe *oauth.Error
		errors.As(err, &oe)
		return nil, oidc.ErrInvalidClient().WithDescription("the client's metadata document is refused: %s", oe.Description)
	}
	now := s.now()
	fresh := oauth.ClientFrom(id, oauth.KindMetadataDocument, m, nil, now)
	fresh.RefreshAt = now.Add(min(max(maxAge, minDocumentAge), maxDocumentAge))
	if err := s.store.SaveMetadataClient(ctx, fresh); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return fresh, nil
}

// authorizeRegisteredSecret checks the secret of a client that registered
// with one; a public client has none to present.
func (s *storage) authorizeRegisteredSecret(ctx context.Context, id, secret string) error {
	c, err := s.registeredClient(ctx, id)
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			return err
		}
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	if len(c.SecretHash) == 0 || subtle.ConstantTimeCompare(c.SecretHash, application.HashClientSecret(secret)) != 1 {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

// registeredClientResponse is the RFC 7591 3.2.1 answer to a registration.
type registeredClientResponse struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

func responseOf(c *oauth.Client, secret string) registeredClientResponse {
	resp := registeredClientResponse{ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientSecret: secret,
		ClientName: c.Name, ClientURI: c.URI, RedirectURIs: slices.Clone(c.RedirectURIs),
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: c.AuthMethod}
	if secret != "" {
		never := int64(0) // RFC 7591: 0 is "does not expire"
		resp.ClientSecretExpiresAt = &never
	}
	return resp
}
