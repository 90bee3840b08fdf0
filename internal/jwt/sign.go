package jwt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TokenType is the JOSE "typ" of access tokens (RFC 9068 section 2.1).
const TokenType = "at+jwt"

// AccessClaims are the claims of an access token. Times travel as whole
// seconds (NumericDate), so they come back truncated.
type AccessClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ClientID  string
	Scope     []string // the space-separated "scope" claim
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time // zero when the token has no end-user authentication
}

// wireClaims is the JSON payload Sign writes.
type wireClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	AuthTime int64    `json:"auth_time,omitempty"`
	JTI      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
}

// audience is written as a string when there is one value, as RFC 9068's
// examples do, and as an array otherwise.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// Sign makes an RFC 9068 access token signed with key: header typ "at+jwt",
// alg and kid; claims iss, sub, aud, exp, iat, jti, client_id, scope and
// auth_time (when set). An empty JTI gets a random one.
func Sign(key Key, c AccessClaims) (string, error) {
	if err := CheckAlgorithm(key.Algorithm); err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	if key.KID == "" || key.private == nil || !keyFits(key.Algorithm, key.private.Public()) {
		return "", fmt.Errorf("sign access token: key %q is not a usable %s key", key.KID, key.Algorithm)
	}
	if err := checkClaims(c); err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	jti := c.JTI
	if jti == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("sign access token: jti: %w", err)
		}
		jti = base64.RawURLEncoding.EncodeToString(b[:])
	}
	w := wireClaims{
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		Audience: audience(c.Audience),
		Expiry:   c.ExpiresAt.Unix(),
		IssuedAt: c.IssuedAt.Unix(),
		JTI:      jti,
		ClientID: c.ClientID,
		Scope:    strings.Join(c.Scope, " "),
	}
	if !c.AuthTime.IsZero() {
		w.AuthTime = c.AuthTime.Unix()
	}
	payload, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{
			Algorithm: jose.SignatureAlgorithm(key.Algorithm),
			Key:       jose.JSONWebKey{Key: key.private, KeyID: key.KID, Algorithm: key.Algorithm},
		},
		(&jose.SignerOptions{}).WithType(TokenType),
	)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return jws.CompactSerialize()
}

// checkClaims refuses claims the Verifier would refuse, so a bug surfaces at
// the signing side and not as a 401 for the user.
func checkClaims(c AccessClaims) error {
	switch {
	case c.Issuer == "":
		return errors.New("empty issuer")
	case c.Subject == "":
		return errors.New("empty subject")
	case c.ClientID == "":
		return errors.New("empty client_id")
	case len(c.Audience) == 0:
		return errors.New("no audience")
	case c.IssuedAt.IsZero() || c.ExpiresAt.IsZero():
		return errors.New("iat and exp are required")
	case !c.ExpiresAt.After(c.IssuedAt):
		return errors.New("exp is not after iat")
	}
	for _, a := range c.Audience {
		if a == "" {
			return errors.New("empty audience value")
		}
	}
	for _, s := range c.Scope {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("scope %q: empty or contains whitespace", s)
		}
	}
	return nil
}
