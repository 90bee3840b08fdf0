package oauth

import (
	"context"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

// tokens issues the access and refresh tokens of a grant.
type tokens struct {
	issuer     string // iss, and aud unless the grant has a resource: the API is served from the issuer's origin
	keys       Keys
	store      Store
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
}

// issue signs an RFC 9068 access token for the grant and, when refresh is set,
// a new refresh token of the same grant.
func (t *tokens) issue(ctx context.Context, g *oauth.Grant, refresh bool) (*oidc.AccessTokenResponse, error) {
	key, err := t.keys.Current(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	now := t.now()
	aud := t.issuer
	if g.Resource != "" {
		aud = g.Resource
	}
	access, err := jwt.Sign(key, jwt.AccessClaims{
		Issuer: t.issuer, Subject: g.Subject, Audience: []string{aud}, ClientID: g.ClientID,
		Scope: g.Scopes, JTI: oauth.NewAccessTokenID(g.ID), IssuedAt: now, ExpiresAt: now.Add(t.accessTTL),
		AuthTime: g.AuthTime,
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: access, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(t.accessTTL / time.Second), Scope: oidc.SpaceDelimitedArray(g.Scopes),
	}
	if refresh {
		token, hash := oauth.NewRefreshToken()
		if err := t.store.SaveRefreshToken(ctx, hash, g.ID, now.Add(t.refreshTTL), now); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		resp.RefreshToken = token
	}
	return resp, nil
}
