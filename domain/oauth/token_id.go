package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// RefreshTokenPrefix makes refresh tokens recognisable to secret scanners and
// to the revocation endpoint, which must tell them from access tokens.
const RefreshTokenPrefix = "cgrt_"

// NewAccessTokenID makes the jti of an access token. It starts with the grant
// id, so the resource server can check the grant's revocation without a
// lookup table from token to grant.
func NewAccessTokenID(grantID string) string { return grantID + "." + random() }

// GrantOfAccessToken returns the grant id inside a jti made by NewAccessTokenID.
func GrantOfAccessToken(jti string) string {
	grant, _, ok := strings.Cut(jti, ".")
	if !ok {
		return ""
	}
	return grant
}

// NewRefreshToken returns a fresh refresh token and the hash to store.
func NewRefreshToken() (token string, hash []byte) {
	token = RefreshTokenPrefix + random()
	return token, HashSecret(token)
}

// HashSecret is the stored form of a code or refresh token: each carries 256
// random bits, so a fast hash suffices.
func HashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func random() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
