package query

import (
	"context"
	"errors"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

// AccessTokens verifies OAuth access tokens: signature, issuer, audience,
// expiry and revocation. Any refusal is errs.KindUnauthorized. An empty
// audience is the issuer's own (the API's).
type AccessTokens interface {
	VerifyAccessTokenFor(ctx context.Context, token, audience string) (jwt.AccessClaims, error)
}

// TokenSignatures checks a token's RFC 9068 profile, signature, issuer,
// audience (its default when empty) and expiry; a refusal is a
// *jwt.InvalidTokenError (jwt.Verifier).
type TokenSignatures interface {
	VerifyFor(ctx context.Context, token, audience string) (jwt.AccessClaims, error)
}

// Revocations tells whether an access token was revoked, alone or with its
// grant, or its end user disabled since it was signed.
type Revocations interface {
	AccessTokenRevoked(ctx context.Context, grantID, jti string) (bool, error)
}

// TokenVerifier is the one check of an access token: the API (Authenticate)
// and the authorization server (introspection, userinfo, revocation) use the
// same, so they cannot disagree on which tokens are live.
type TokenVerifier struct {
	signatures  TokenSignatures
	revocations Revocations
}

func NewTokenVerifier(signatures TokenSignatures, revocations Revocations) *TokenVerifier {
	return &TokenVerifier{signatures: signatures, revocations: revocations}
}

// VerifyAccessToken returns the claims of a live token for the API (the
// issuer's audience).
func (v *TokenVerifier) VerifyAccessToken(ctx context.Context, token string) (jwt.AccessClaims, error) {
	return v.VerifyAccessTokenFor(ctx, token, "")
}

// VerifyAccessTokenFor returns the claims of a live token for audience (the
// issuer's when empty). A token refused for itself, or revoked, is
// errs.KindUnauthorized ("invalid-token"); any other error is a fault of the
// key source or the database, passed on as is.
func (v *TokenVerifier) VerifyAccessTokenFor(ctx context.Context, token, audience string) (jwt.AccessClaims, error) {
	claims, err := v.signatures.VerifyFor(ctx, token, audience)
	var invalid *jwt.InvalidTokenError
	if errors.As(err, &invalid) {
		return jwt.AccessClaims{}, errs.Unauthorized("invalid-token", "the access token is invalid: "+invalid.Reason)
	}
	if err != nil {
		return jwt.AccessClaims{}, err
	}
	revoked, err := v.revocations.AccessTokenRevoked(ctx, oauth.GrantOfAccessToken(claims.JTI), claims.JTI)
	if err != nil {
		return jwt.AccessClaims{}, err
	}
	if revoked {
		return jwt.AccessClaims{}, errs.Unauthorized("invalid-token", "the access token was revoked")
	}
	return claims, nil
}
