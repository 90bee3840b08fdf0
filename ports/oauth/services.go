package oauth

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

// Apps finds the application behind a client_id.
type Apps interface {
	Get(ctx context.Context, id string) (*application.Application, error)
}

// Store keeps authorization requests, grants and tokens (adapters/postgres.OAuthStore).
type Store interface {
	SaveAuthRequest(ctx context.Context, r *oauth.AuthRequest) error
	AuthRequest(ctx context.Context, id string, now time.Time) (*oauth.AuthRequest, error)
	CompleteAuthRequest(ctx context.Context, id, subject string, authTime, now time.Time) error
	DeleteAuthRequest(ctx context.Context, id string) error
	SaveCode(ctx context.Context, id string, codeHash []byte, now time.Time) error
	RedeemCode(ctx context.Context, codeHash []byte, grantID string, now time.Time) (*oauth.AuthRequest, error)
	CreateGrant(ctx context.Context, g *oauth.Grant) error
	RevokeGrant(ctx context.Context, id string, now time.Time) error
	// LiveGrantsOfSubject and RevokeGrantsOfClient serve the account page,
	// where an end user sees and ends the connections of their GPTs.
	LiveGrantsOfSubject(ctx context.Context, subject string, now time.Time) ([]*oauth.Grant, error)
	RevokeGrantsOfClient(ctx context.Context, subject, clientID string, now time.Time) error
	SaveRefreshToken(ctx context.Context, hash []byte, grantID string, expires, now time.Time) error
	UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (*oauth.Grant, error)
	RefreshTokenGrant(ctx context.Context, hash []byte) (*oauth.Grant, error)
	RevokeAccessToken(ctx context.Context, jti string, expires time.Time) error
	AccessTokenRevoked(ctx context.Context, grantID, jti string) (bool, error)

	// Clients that registered themselves (oauth.Client). Client answers
	// oauth.ErrNotFound for an unknown one; UseClient records that a client
	// asked for an application and tells whether it was revoked there.
	RegisterClient(ctx context.Context, c *oauth.Client) error
	SaveMetadataClient(ctx context.Context, c *oauth.Client) error
	Client(ctx context.Context, id string) (*oauth.Client, error)
	UseClient(ctx context.Context, appID, clientID string, now time.Time) (revoked bool, err error)
	ClientRevoked(ctx context.Context, appID, clientID string) (bool, error)
}

// MetadataDocuments fetches a Client ID Metadata Document, guarded as
// webhooks are (adapters/clientmetadata): its bytes, and how long they may
// be kept. Its errors are written for the person signing in.
type MetadataDocuments interface {
	Fetch(ctx context.Context, clientID string) (doc []byte, maxAge time.Duration, err error)
}

// Keys signs access tokens and publishes the keys that verify them.
type Keys interface {
	Current(ctx context.Context) (jwt.Key, error)
	PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error)
}

// AccessTokens verifies access tokens as the API does: signature, claims
// and revocation (query.TokenVerifier). A token refused for itself or revoked
// is errs.KindUnauthorized. VerifyAccessToken is for the issuer's audience,
// VerifyAccessTokenFor for another resource's.
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, token string) (jwt.AccessClaims, error)
	VerifyAccessTokenFor(ctx context.Context, token, audience string) (jwt.AccessClaims, error)
}

// Sessions keeps signed-in browsers; only a hash of the cookie is stored.
type Sessions interface {
	CreateSession(ctx context.Context, userID string, authTime time.Time) (token string, err error)
	// Session returns oauth.ErrNotFound for an unknown or expired session, or
	// one whose user is disabled.
	Session(ctx context.Context, token string) (oauth.Session, error)
	// EndSession signs a browser out; an unknown token is not an error.
	EndSession(ctx context.Context, token string) error
}
