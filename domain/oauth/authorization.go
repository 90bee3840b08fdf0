package oauth

import (
	"errors"
	"time"
)

const (
	// CodeLifetime bounds how long an authorization code may wait to be redeemed.
	CodeLifetime = 10 * time.Minute
	// AuthRequestLifetime bounds how long a user may take to sign in and consent.
	AuthRequestLifetime = 30 * time.Minute
)

// AuthRequest is an authorization request from /authorize until its code is redeemed.
type AuthRequest struct {
	ID                  string
	ClientID            string
	AppID               string // the application reached: the client's own, or the one Resource names
	RedirectURI         string
	Scopes              Scopes
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Resource            string // RFC 8707: an MCP endpoint's URL; empty for the API
	Subject             string // set once the user signed in and consented
	AuthTime            time.Time
	Done                bool
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// Grant is one authorization of a client by a subject: the family of every
// token issued from one code, one client_credentials exchange, and their
// refreshes. Revoking it revokes them all.
type Grant struct {
	ID        string
	ClientID  string
	AppID     string // whose memory space: the client's own application, or the one Resource names
	Subject   string
	Scopes    Scopes
	Resource  string // the audience of its access tokens; empty: the issuer (the API)
	AuthTime  time.Time
	CreatedAt time.Time
	RevokedAt time.Time
}

// Revoked tells whether the grant has been revoked.
func (g *Grant) Revoked() bool { return !g.RevokedAt.IsZero() }

var (
	// ErrCodeReused: a code was redeemed a second time; the grant issued by the
	// first redemption has been revoked (RFC 6749 section 4.1.2).
	ErrCodeReused = &Error{Code: "invalid_grant", Description: "the authorization code was already used"}
	// ErrRefreshReused: a rotated refresh token came back; its grant is revoked.
	ErrRefreshReused = &Error{Code: "invalid_grant", Description: "the refresh token was already used"}
	// ErrUserDisabled: the code or refresh token is of a user who is disabled
	// (or gone); nothing more is issued for them.
	ErrUserDisabled = &Error{Code: "invalid_grant", Description: "the user's account is disabled"}
	// ErrNotFound: no such request, code or token (or it expired).
	ErrNotFound = errors.New("oauth: not found")
)

// SessionLifetime is how long a signed-in browser stays signed in.
const SessionLifetime = 8 * time.Hour

// Session is a signed-in end user's browser session on the login pages.
type Session struct {
	UserID   string
	Email    string
	AuthTime time.Time
}
