package jwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Reasons an access token is refused, as InvalidTokenError.Reason.
const (
	ReasonMalformed       = "malformed"         // not a compact JWS, or its header is unreadable
	ReasonAlgNone         = "alg-none"          // unsigned token
	ReasonAlgHMAC         = "alg-hmac"          // HS256/384/512: never accepted, they invite key confusion
	ReasonAlgUnsupported  = "alg-unsupported"   // any alg other than ES256 and RS256
	ReasonBadType         = "bad-typ"           // typ is not at+jwt
	ReasonMissingKID      = "missing-kid"       // no kid header
	ReasonUnknownKID      = "unknown-kid"       // no key with this kid, or it no longer verifies
	ReasonKeyAlgMismatch  = "key-alg-mismatch"  // the key is bound to another algorithm than the header's
	ReasonBadSignature    = "bad-signature"     // the signature does not verify with the key
	ReasonMalformedClaims = "malformed-claims"  // the payload is not a claims object of the right types
	ReasonWrongIssuer     = "wrong-issuer"      // iss is not the Verifier's Issuer
	ReasonWrongAudience   = "wrong-audience"    // aud does not contain the audience asked for
	ReasonMissingExpiry   = "missing-exp"       // no exp: the token would never expire
	ReasonExpired         = "expired"           // exp <= now - leeway
	ReasonNotYetValid     = "not-yet-valid"     // nbf > now + leeway
	ReasonIssuedInFuture  = "issued-in-future"  // iat > now + leeway
	ReasonMissingSubject  = "missing-sub"       // no sub
	ReasonMissingClientID = "missing-client-id" // no client_id
)

const (
	maxTokenBytes     = 16 << 10 // far above any token we sign; bounds the work spent on garbage
	maxNumericDateAbs = 1e15     // seconds; keeps the int64 conversion defined
)

// InvalidTokenError is a refusal of the token itself; the HTTP edge answers it
// with 401 and WWW-Authenticate: Bearer error="invalid_token". Other errors of
// Verify are faults of the key source (e.g. the database is down).
type InvalidTokenError struct {
	Reason string // one of the Reason constants
	Err    error  // the underlying cause, for logs
}

func (e *InvalidTokenError) Error() string {
	if e.Err != nil {
		return "invalid token: " + e.Reason + ": " + e.Err.Error()
	}
	return "invalid token: " + e.Reason
}

func (e *InvalidTokenError) Unwrap() error { return e.Err }

func invalid(reason string, err error) error { return &InvalidTokenError{Reason: reason, Err: err} }

// KeySource finds the public key of a kid. When it has none that still
// verifies it returns an error wrapping ErrKeyNotFound.
type KeySource interface {
	VerificationKey(ctx context.Context, kid string) (*jose.JSONWebKey, error)
}

// Verifier checks access tokens as a resource server must (RFC 9068 section 4,
// RFC 8725).
type Verifier struct {
	Issuer   string // exact iss
	Audience string // must be one of aud
	Keys     KeySource
	Now      func() time.Time // time.Now when nil
	Leeway   time.Duration    // clock skew allowed on exp, nbf and iat
}

var allowedAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Verify checks token, for the Verifier's Audience, and returns its claims.
// A token it refuses yields an *InvalidTokenError.
func (v *Verifier) Verify(ctx context.Context, token string) (AccessClaims, error) {
	return v.VerifyFor(ctx, token, "")
}

// VerifyFor is Verify for the resource audience names instead: one verifier
// (keys, issuer, clock) serves every resource of the issuer, and each asks for
// its own audience. An empty audience is the Verifier's Audience.
func (v *Verifier) VerifyFor(ctx context.Context, token, audience string) (AccessClaims, error) {
	if audience == "" {
		audience = v.Audience
	}
	if v.Issuer == "" || audience == "" || v.Keys == nil {
		return AccessClaims{}, errors.New("jwt verifier: Issuer, Audience and Keys are required")
	}
	if len(token) > maxTokenBytes {
		return AccessClaims{}, invalid(ReasonMalformed, fmt.Errorf("token longer than %d bytes", maxTokenBytes))
	}
	if err := precheckAlgorithm(token); err != nil {
		return AccessClaims{}, err
	}
	// go-jose's parse is the authority on the header from here on; the precheck
	// above only gives refusals a precise reason.
	jws, err := jose.ParseSignedCompact(token, allowedAlgorithms)
	if err != nil {
		return AccessClaims{}, invalid(ReasonMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return AccessClaims{}, invalid(ReasonMalformed, errors.New("want exactly one signature"))
	}
	header := jws.Signatures[0].Protected
	alg := header.Algorithm
	if !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(alg)) {
		return AccessClaims{}, invalid(ReasonAlgUnsupported, fmt.Errorf("alg %q", alg))
	}
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return AccessClaims{}, invalid(ReasonBadType, fmt.Errorf("typ %q", typ))
	}
	if header.KeyID == "" {
		return AccessClaims{}, invalid(ReasonMissingKID, nil)
	}
	jwk, err := v.Keys.VerificationKey(ctx, header.KeyID)
	if errors.Is(err, ErrKeyNotFound) || (err == nil && jwk == nil) {
		return AccessClaims{}, invalid(ReasonUnknownKID, fmt.Errorf("kid %q", header.KeyID))
	}
	if err != nil {
		return AccessClaims{}, fmt.Errorf("look up verification key %q: %w", header.KeyID, err)
	}
	pub := jwk.Public()
	if jwk.Algorithm != alg || !keyFits(alg, pub.Key) {
		return AccessClaims{}, invalid(ReasonKeyAlgMismatch, fmt.Errorf("kid %q is a %s key (%T), token says %s", header.KeyID, jwk.Algorithm, pub.Key, alg))
	}
	payload, err := jws.Verify(&pub)
	if err != nil {
		return AccessClaims{}, invalid(ReasonBadSignature, err)
	}
	claims, exp, nbf, err := parseClaims(payload)
	if err != nil {
		return AccessClaims{}, invalid(ReasonMalformedClaims, err)
	}
	if err := v.checkClaims(claims, audience, exp, nbf); err != nil {
		return AccessClaims{}, err
	}
	return claims, nil
}

// precheckAlgorithm reads the header's alg itself so that none, HMAC and other
// algorithms are refused with a reason of their own.
func precheckAlgorithm(token string) error {
	if strings.HasPrefix(strings.TrimSpace(token), "{") {
		return invalid(ReasonMalformed, errors.New("JWS JSON serialization is not accepted"))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return invalid(ReasonMalformed, fmt.Errorf("%d parts, want 3", len(parts)))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return invalid(ReasonMalformed, fmt.Errorf("header: %w", err))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw, &header); err != nil {
		return invalid(ReasonMalformed, fmt.Errorf("header: %w", err))
	}
	var alg string
	if rawAlg, ok := header["alg"]; ok {
		if err := json.Unmarshal(rawAlg, &alg); err != nil {
			return invalid(ReasonMalformed, fmt.Errorf("alg: %w", err))
		}
	}
	switch {
	case strings.EqualFold(alg, "none"):
		return invalid(ReasonAlgNone, nil)
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return invalid(ReasonAlgHMAC, fmt.Errorf("alg %q", alg))
	case !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(alg)):
		return invalid(ReasonAlgUnsupported, fmt.Errorf("alg %q", alg))
	}
	return nil
}

// isAccessTokenType accepts "at+jwt" and its full media type; media types are
// case-insensitive (RFC 7515 section 4.1.9).
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == TokenType || typ == "application/"+TokenType
}

func (v *Verifier) checkClaims(c AccessClaims, audience string, exp, nbf time.Time) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	leeway := max(v.Leeway, 0)
	switch {
	case c.Issuer != v.Issuer:
		return invalid(ReasonWrongIssuer, fmt.Errorf("iss %q", c.Issuer))
	case !slices.Contains(c.Audience, audience):
		return invalid(ReasonWrongAudience, fmt.Errorf("aud %q", c.Audience))
	case exp.IsZero():
		return invalid(ReasonMissingExpiry, nil)
	case !exp.After(now.Add(-leeway)):
		return invalid(ReasonExpired, fmt.Errorf("expired at %s", exp.Format(time.RFC3339)))
	case !nbf.IsZero() && nbf.After(now.Add(leeway)):
		return invalid(ReasonNotYetValid, fmt.Errorf("not before %s", nbf.Format(time.RFC3339)))
	case !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(leeway)):
		return invalid(ReasonIssuedInFuture, fmt.Errorf("issued at %s", c.IssuedAt.Format(time.RFC3339)))
	case c.Subject == "":
		return invalid(ReasonMissingSubject, nil)
	case c.ClientID == "":
		return invalid(ReasonMissingClientID, nil)
	}
	return nil
}

// parseClaims decodes the payload by exact claim names (encoding/json's struct
// matching is case-insensitive) and treats null as absent.
func parseClaims(payload []byte) (c AccessClaims, exp, nbf time.Time, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return c, exp, nbf, err
	}
	strs := []struct {
		name string
		dst  *string
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"client_id", &c.ClientID}, {"jti", &c.JTI}}
	for _, s := range strs {
		if raw, ok := claim(m, s.name); ok {
			if err := json.Unmarshal(raw, s.dst); err != nil {
				return c, exp, nbf, fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	if raw, ok := claim(m, "aud"); ok {
		if c.Audience, err = parseAudience(raw); err != nil {
			return c, exp, nbf, fmt.Errorf("aud: %w", err)
		}
	}
	if raw, ok := claim(m, "scope"); ok {
		var scope string
		if err := json.Unmarshal(raw, &scope); err != nil {
			return c, exp, nbf, fmt.Errorf("scope: %w", err)
		}
		c.Scope = strings.Fields(scope)
	}
	dates := []struct {
		name string
		dst  *time.Time
	}{{"exp", &exp}, {"nbf", &nbf}, {"iat", &c.IssuedAt}, {"auth_time", &c.AuthTime}}
	for _, d := range dates {
		if raw, ok := claim(m, d.name); ok {
			if *d.dst, err = parseNumericDate(raw); err != nil {
				return c, exp, nbf, fmt.Errorf("%s: %w", d.name, err)
			}
		}
	}
	c.ExpiresAt = exp
	return c, exp, nbf, nil
}

func claim(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

func parseAudience(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("want a string or an array of strings")
	}
	return many, nil
}

func parseNumericDate(raw json.RawMessage) (time.Time, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return time.Time{}, err
	}
	if math.Abs(f) > maxNumericDateAbs {
		return time.Time{}, fmt.Errorf("%v is out of range", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
