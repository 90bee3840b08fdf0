package application

import (
	"crypto/sha256"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// MaxRedirectURIs bounds how many callbacks one client may register.
const MaxRedirectURIs = 20

// OAuthClient is the application's registration as a confidential OAuth client:
// its client_id is the application id; only a hash of the secret is kept.
type OAuthClient struct {
	SecretHash   []byte
	RedirectURIs []string
}

// SecretPrefix makes client secrets recognisable to secret scanners.
const SecretPrefix = "cgcs_"

// NewClientSecret returns a fresh random secret and the hash to store. Like API
// keys, secrets carry 256 bits of entropy, so a fast hash suffices and the token
// endpoint spends no CPU on slow hashing.
func NewClientSecret() (secret string, hash []byte) {
	secret = SecretPrefix + randomToken()
	return secret, HashClientSecret(secret)
}

// HashClientSecret is the stored form of a client secret.
func HashClientSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// RotateClientSecret replaces the secret; the old one stops working at once.
func (a *Application) RotateClientSecret(hash []byte, now time.Time) {
	a.client.SecretHash = hash
	a.updatedAt = now
}

// AddRedirectURI registers a callback URL. Redirect URIs match exactly, so the
// URI is kept as given once it passes the rules of ValidateRedirectURI.
func (a *Application) AddRedirectURI(uri string, now time.Time) error {
	if err := ValidateRedirectURI(uri); err != nil {
		return err
	}
	if slices.Contains(a.client.RedirectURIs, uri) {
		return nil
	}
	if len(a.client.RedirectURIs) >= MaxRedirectURIs {
		return errs.Invalid("redirect_uri", "too-many-redirect-uris", "an application may register at most 20 redirect URIs")
	}
	a.client.RedirectURIs = append(slices.Clone(a.client.RedirectURIs), uri)
	a.updatedAt = now
	return nil
}

// ValidateRedirectURI accepts absolute https URLs, and http only on a loopback
// address (RFC 8252 for local development), without fragment or user info.
func ValidateRedirectURI(uri string) error {
	bad := func(detail string) error { return errs.Invalid("redirect_uri", "redirect-uri-invalid", detail) }
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return bad("the redirect URI must be an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(uri, "#") {
		return bad("the redirect URI must not have a fragment")
	}
	if u.User != nil {
		return bad("the redirect URI must not carry user information")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
		return bad("http redirect URIs are allowed only on a loopback address; use https")
	}
	return bad("the redirect URI must use https")
}
