package oauth

import (
	"context"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"
)

// RFC 8707 resource indicators. The only resources besides the API (no
// resource: aud is the issuer, as always) are applications' MCP endpoints,
// while they are on; the URL becomes the access token's one audience, so the
// token is good there and nowhere else. An application's own client may have
// its own application's endpoint; a client that registered itself may have
// any application's, under that application's policy, and nothing else.

// resourceParam reads a request's resource; more than one is invalid_target,
// as every token here has one audience.
func resourceParam(form url.Values) (string, error) {
	switch rs := form["resource"]; len(rs) {
	case 0:
		return "", nil
	case 1:
		if rs[0] == "" {
			return "", invalidTarget()
		}
		return rs[0], nil
	default:
		return "", oidc.ErrInvalidTarget().WithDescription("one resource per request")
	}
}

// resourceApp returns the application whose MCP endpoint res is, once sure
// that clientID may have it: the endpoint is on, its application active, and
// a registered client not revoked there by the application's operator.
func (s *server) resourceApp(ctx context.Context, clientID, res string) (*application.Application, error) {
	appID, ok := resource.AppOfMCP(s.tokens.issuer, res)
	registered := oauth.IsRegisteredClientID(clientID)
	if !ok || (!registered && appID != clientID) {
		return nil, invalidTarget()
	}
	app, err := s.storage.apps.Get(ctx, appID)
	switch {
	case errs.KindOf(err) == errs.KindNotFound:
		return nil, invalidTarget()
	case err != nil:
		// The check could not be made (the database out of reach): not the
		// client's fault, so not invalid_target.
		return nil, oidc.ErrServerError().WithParent(err)
	case !app.MCPEnabled(), app.Authorize() != nil:
		return nil, invalidTarget()
	}
	if registered {
		revoked, err := s.storage.store.ClientRevoked(ctx, appID, clientID)
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		if revoked {
			return nil, clientRevoked()
		}
	}
	return app, nil
}

func invalidTarget() *oidc.Error {
	return oidc.ErrInvalidTarget().WithDescription("resource must be the MCP endpoint of an application this client may reach, with MCP enabled")
}

func clientRevoked() *oidc.Error {
	return oidc.ErrUnauthorizedClient().WithDescription("the application's operator revoked this client")
}

type resourceKey struct{}

type checkedResource struct{ url, appID string }

// withResource carries a checked resource, and the application it names, from
// the authorization request's checks to the storage's CreateAuthRequest, which
// zitadel calls with its own parsed request only.
func withResource(ctx context.Context, res, appID string) context.Context {
	return context.WithValue(ctx, resourceKey{}, checkedResource{res, appID})
}

// resourceOf is the request's checked resource and application; none when it
// asked for the API.
func resourceOf(ctx context.Context) (res, appID string) {
	c, _ := ctx.Value(resourceKey{}).(checkedResource)
	return c.url, c.appID
}

// clientsToken verifies a token clientID presents for introspection or
// revocation: one for the API, or one for an MCP endpoint, the only
// audiences tokens here have. The audience is read from the token before it
// is verified only to know which audience to verify it for.
func (s *server) clientsToken(ctx context.Context, token, clientID string) (jwt.AccessClaims, error) {
	if aud := jwt.PeekAudience(token); aud != "" && aud != s.tokens.issuer {
		if _, ok := resource.AppOfMCP(s.tokens.issuer, aud); ok {
			return s.access.VerifyAccessTokenFor(ctx, token, aud)
		}
	}
	return s.access.VerifyAccessToken(ctx, token)
}
