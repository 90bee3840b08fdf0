package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// server is zitadel/oidc's LegacyServer with every grant, introspection and
// revocation done by us. zitadel parses and validates the protocol requests and
// authenticates clients; we consume codes and refresh tokens atomically, enforce
// PKCE, rotate refresh tokens with reuse detection, and issue RFC 9068 access
// tokens (typ at+jwt), which zitadel's own JWT signer cannot.
type server struct {
	*op.LegacyServer
	storage *storage
	tokens  *tokens
	access  AccessTokens
	limits  limits
	logger  *slog.Logger
}

func noStore(resp *op.Response) *op.Response {
	resp.Header.Set("Cache-Control", "no-store")
	resp.Header.Set("Pragma", "no-cache")
	return resp
}

// CodeExchange redeems a code once. The code must belong to the authenticated
// client and its redirect URI, within its lifetime, and pass PKCE when the
// request carried a challenge.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	now := s.tokens.now()
	grantID := uuid.Must(uuid.NewV7()).String()
	req, err := s.storage.store.RedeemCode(ctx, oauth.HashSecret(r.Data.Code), grantID, now)
	switch {
	case errors.Is(err, oauth.ErrCodeReused):
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization code was already used; its tokens are revoked")
	case errors.Is(err, oauth.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization code is invalid or expired")
	case errors.Is(err, oauth.ErrUserDisabled):
		return nil, toOIDC(err)
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	}
	// The code is spent from here on: any mismatch also revokes what it granted.
	fail := func(description string) (*op.Response, error) {
		_ = s.storage.store.RevokeGrant(ctx, grantID, now)
		return nil, oidc.ErrInvalidGrant().WithDescription("%s", description)
	}
	if req.ClientID != r.Client.GetID() {
		return fail("the authorization code was issued to another client")
	}
	if r.Data.RedirectURI != req.RedirectURI {
		return fail("redirect_uri does not match the authorization request")
	}
	if err := oauth.VerifyCodeVerifier(req.CodeChallenge, req.CodeChallengeMethod, r.Data.CodeVerifier); err != nil {
		var oe *oauth.Error
		errors.As(err, &oe)
		return fail(oe.Description)
	}
	// RFC 8707 2.2: the token request names the resource the code was
	// granted for, or none when it was granted for none.
	if res, err := resourceParam(r.Form); err != nil || res != req.Resource {
		_ = s.storage.store.RevokeGrant(ctx, grantID, now)
		return nil, invalidTarget()
	}
	if req.Resource != "" {
		if _, err := s.resourceApp(ctx, req.ClientID, req.Resource); err != nil {
			_ = s.storage.store.RevokeGrant(ctx, grantID, now)
			return nil, err
		}
	}
	resp, err := s.tokens.issue(ctx, &oauth.Grant{ID: grantID, ClientID: req.ClientID, AppID: req.AppID, Subject: req.Subject,
		Scopes: req.Scopes, Resource: req.Resource, AuthTime: req.AuthTime}, true)
	if err != nil {
		return nil, err
	}
	return noStore(op.NewResponse(resp)), nil
}

// RefreshToken rotates the refresh token: the one presented is spent, a new one
// is issued, and presenting a spent one revokes the whole grant.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	hash := oauth.HashSecret(r.Data.RefreshToken)
	// Another client's token and scopes the grant lacks are refused before
	// the token is spent: a refused refresh issues nothing, so the owner must
	// keep the token it has, or its next try would look like reuse and revoke
	// the grant (anyone holding a leaked token could end it).
	if g, err := s.storage.store.RefreshTokenGrant(ctx, hash); err == nil {
		if g.ClientID != r.Client.GetID() {
			return nil, otherClientsToken()
		}
		if err := narrowsOnly(g, r.Data.Scopes); err != nil {
			return nil, err
		}
		if err := s.keepsResource(ctx, g, r.Form); err != nil {
			return nil, err
		}
	}
	g, err := s.storage.store.UseRefreshToken(ctx, hash, s.tokens.now())
	switch {
	case errors.Is(err, oauth.ErrRefreshReused):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was already used; its grant is revoked")
	case errors.Is(err, oauth.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid, expired or revoked")
	case errors.Is(err, oauth.ErrUserDisabled):
		return nil, toOIDC(err)
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if g.ClientID != r.Client.GetID() {
		return nil, otherClientsToken()
	}
	if err := s.keepsResource(ctx, g, r.Form); err != nil {
		return nil, err
	}
	if len(r.Data.Scopes) > 0 {
		if err := narrowsOnly(g, r.Data.Scopes); err != nil {
			return nil, err
		}
		narrowed := *g
		narrowed.Scopes = oauth.Scopes(slices.Clone(r.Data.Scopes))
		g = &narrowed
	}
	resp, err := s.tokens.issue(ctx, g, true)
	if err != nil {
		return nil, err
	}
	return noStore(op.NewResponse(resp)), nil
}

// keepsResource refuses a refresh naming another resource than its grant's
// (none names the grant's), and one of a grant whose MCP endpoint was
// switched off since.
func (s *server) keepsResource(ctx context.Context, g *oauth.Grant, form url.Values) error {
	res, err := resourceParam(form)
	if err != nil {
		return err
	}
	if res != "" && res != g.Resource {
		return invalidTarget()
	}
	if g.Resource != "" {
		_, err := s.resourceApp(ctx, g.ClientID, g.Resource)
		return err
	}
	return nil
}

// otherClientsToken refuses a refresh token presented by a client it was not issued to.
func otherClientsToken() error {
	return oidc.ErrInvalidGrant().WithDescription("the refresh token was issued to another client")
}

// narrowsOnly refuses scopes a refresh asks for that its grant lacks.
func narrowsOnly(g *oauth.Grant, scopes []string) error {
	for _, sc := range scopes {
		if !g.Scopes.Has(sc) {
			return oidc.ErrInvalidScope().WithDescription("a refresh may only narrow the granted scopes")
		}
	}
	return nil
}

// ClientCredentialsExchange gives a service client a token of its own: the
// application is the subject, so it reaches the application's own memory space.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	// A service token acts for the application itself, at the API only; a
	// client that registered itself has no application of its own.
	if oauth.IsRegisteredClientID(r.Client.GetID()) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("this client may use the authorization_code grant only")
	}
	if len(r.Form["resource"]) > 0 {
		return nil, oidc.ErrInvalidTarget().WithDescription("client_credentials tokens are for the API only; send no resource")
	}
	scopes := oauth.Restrict(r.Data.Scope)
	if len(scopes) == 0 {
		return nil, oidc.ErrInvalidScope().WithDescription("supported scopes: memories:read memories:write")
	}
	now := s.tokens.now()
	g := &oauth.Grant{ID: uuid.Must(uuid.NewV7()).String(), ClientID: r.Client.GetID(), AppID: r.Client.GetID(), Subject: r.Client.GetID(),
		Scopes: scopes, CreatedAt: now}
	if err := s.storage.store.CreateGrant(ctx, g); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	resp, err := s.tokens.issue(ctx, g, false)
	if err != nil {
		return nil, err
	}
	return noStore(op.NewResponse(resp)), nil
}

// Introspect answers RFC 7662 for an authenticated client; any token that is
// not an active access token of that client is exactly {"active": false}.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	cc := r.Data.ClientCredentials
	if cc == nil || cc.ClientID == "" {
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication is required")
	}
	if err := s.storage.AuthorizeClientIDSecret(ctx, cc.ClientID, cc.ClientSecret); err != nil {
		if limited := s.limits.failedClientAuth(ctx, cc.ClientID); limited != nil {
			return nil, limited
		}
		return nil, err
	}
	inactive := noStore(op.NewResponse(map[string]bool{"active": false}))
	if r.Data.IntrospectionRequest == nil {
		return inactive, nil
	}
	claims, err := s.clientsToken(ctx, r.Data.Token, cc.ClientID)
	if err != nil || claims.ClientID != cc.ClientID {
		return inactive, nil
	}
	return noStore(op.NewResponse(map[string]any{
		"active": true, "token_type": oidc.BearerToken, "client_id": claims.ClientID, "sub": claims.Subject,
		"scope": strings.Join(claims.Scope, " "), "iss": claims.Issuer, "aud": claims.Audience,
		"exp": claims.ExpiresAt.Unix(), "iat": claims.IssuedAt.Unix(), "jti": claims.JTI,
	})), nil
}

// Revocation (RFC 7009) answers 200 whatever the token, so it tells a client
// nothing about tokens that are not its own. A refresh token revokes its grant;
// an access token is revoked alone, unless it is no longer live.
func (s *server) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	ok := noStore(op.NewResponse(struct{}{}))
	token := r.Data.Token
	now := s.tokens.now()
	if strings.HasPrefix(token, oauth.RefreshTokenPrefix) {
		g, err := s.storage.store.RefreshTokenGrant(ctx, oauth.HashSecret(token))
		if err == nil && g.ClientID == r.Client.GetID() {
			if err := s.storage.store.RevokeGrant(ctx, g.ID, now); err != nil {
				return nil, oidc.ErrServerError().WithParent(err)
			}
		}
		return ok, nil
	}
	claims, err := s.clientsToken(ctx, token, r.Client.GetID())
	if err == nil && claims.ClientID == r.Client.GetID() {
		if err := s.storage.store.RevokeAccessToken(ctx, claims.JTI, claims.ExpiresAt); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	return ok, nil
}

// VerifyClient answers a failed client authentication with 401 (RFC 6749 5.2:
// required when the client used the Authorization header), where zitadel
// answers 400; protocolHeaders adds the WWW-Authenticate challenge. Budgets
// are spent only once the outcome is known (limits.go): a failure spends the
// failure budgets of its address and of the client_id it named, a token
// request of the authenticated client spends that client's own.
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	c, err := s.LegacyServer.VerifyClient(ctx, r)
	if oe, failed := isClientAuthFailure(err); failed {
		if limited := s.limits.failedClientAuth(ctx, r.Data.ClientID); limited != nil {
			return nil, limited
		}
		return nil, op.NewStatusError(oe, http.StatusUnauthorized)
	}
	if err == nil && r.URL.Path == PathToken {
		if limited := s.limits.clientRequest(ctx, c.GetID()); limited != nil {
			return nil, limited
		}
	}
	return c, err
}
