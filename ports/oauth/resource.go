package oauth

import (
	"context"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"
)

// RFC 8707 resource indicators. The only resource besides the API (no
// resource: aud is the issuer, as always) is the MCP endpoint of the client's
// own application, while it is on; its URL becomes the access token's one
// audience, so the token is good there and nowhere else.

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

// checkResource accepts only the MCP endpoint of clientID's own application
// (client_id is the application id), and only while that endpoint is on.
func (s *server) checkResource(ctx context.Context, clientID, res string) error {
	if res != resource.MCP(s.tokens.issuer, clientID) {
		return invalidTarget()
	}
	app, err := s.storage.apps.Get(ctx, clientID)
	switch {
	case errs.KindOf(err) == errs.KindNotFound:
		return invalidTarget()
	case err != nil:
		// The check could not be made (the database out of reach): not the
		// client's fault, so not invalid_target.
		return oidc.ErrServerError().WithParent(err)
	case !app.MCPEnabled():
		return invalidTarget()
	}
	return nil
}

func invalidTarget() *oidc.Error {
	return oidc.ErrInvalidTarget().WithDescription("resource must be the MCP endpoint of this client's application, with MCP enabled")
}

type resourceKey struct{}

// withResource carries a checked resource from Authorize to the storage's
// CreateAuthRequest, which zitadel calls with its own parsed request only.
func withResource(ctx context.Context, res string) context.Context {
	return context.WithValue(ctx, resourceKey{}, res)
}

func resourceOf(ctx context.Context) string {
	res, _ := ctx.Value(resourceKey{}).(string)
	return res
}

// clientsToken verifies a token clientID presents for introspection or
// revocation: one for the API, or one for its own application's MCP endpoint,
// the only two audiences its tokens can have.
func (s *server) clientsToken(ctx context.Context, token, clientID string) (jwt.AccessClaims, error) {
	claims, err := s.access.VerifyAccessToken(ctx, token)
	if err != nil {
		claims, err = s.access.VerifyAccessTokenFor(ctx, token, resource.MCP(s.tokens.issuer, clientID))
	}
	return claims, err
}
