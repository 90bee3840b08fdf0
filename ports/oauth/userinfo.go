package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// UserInfo answers only for an access token the API would accept: verified as
// the resource server verifies it, not revoked alone or with its grant, of an
// active user and an active application. zitadel's own userinfo checks the
// signature alone, so a revoked token, or one of a disabled user, still
// answered.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := s.access.VerifyAccessToken(ctx, r.Data.AccessToken)
	var refused *errs.Error
	if errors.As(err, &refused) && refused.Kind == errs.KindUnauthorized {
		return nil, invalidToken(refused.Detail)
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	app, err := s.storage.apps.Get(ctx, claims.ClientID)
	if errs.KindOf(err) == errs.KindNotFound || err == nil && app.Authorize() != nil {
		return nil, invalidToken("the access token's application is disabled")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return noStore(op.NewResponse(&oidc.UserInfo{Subject: claims.Subject})), nil
}

// invalidToken is RFC 6750's answer to a bearer token that is not (or no
// longer) good: 401 invalid_token.
func invalidToken(description string) error {
	return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: description}, http.StatusUnauthorized)
}

// bearerChallenge names the Bearer scheme on a 401 from userinfo (RFC 6750
// 3), which zitadel leaves out: with invalid_token when a token was sent.
type bearerChallenge struct {
	http.ResponseWriter
	sentToken bool
}

func (w *bearerChallenge) WriteHeader(code int) {
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		challenge := `Bearer realm="custom-gpt-adapter"`
		if w.sentToken {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.ResponseWriter.WriteHeader(code)
}
