// Package jwt signs and verifies the service's OAuth 2.0 access tokens: JWTs in
// the RFC 9068 profile, signed with ES256 or RS256 keys (one algorithm per key,
// as RFC 8725 asks), through go-jose.
package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// The only algorithms keys are made for and tokens are accepted with.
const (
	ES256 = string(jose.ES256)
	RS256 = string(jose.RS256)
)

// rsaBits is the size of generated RSA keys; parsed RSA keys must have at least
// minRSABits.
const (
	rsaBits    = 3072
	minRSABits = 2048
)

// ErrKeyNotFound is what a KeySource wraps when it has no usable key of a kid;
// the Verifier turns it into an "unknown-kid" refusal.
var ErrKeyNotFound = errors.New("signing key not found")

// CheckAlgorithm reports whether alg is one keys can be made for.
func CheckAlgorithm(alg string) error {
	if alg != ES256 && alg != RS256 {
		return fmt.Errorf("signing algorithm %q: want %s or %s", alg, ES256, RS256)
	}
	return nil
}

// Key is a private signing key bound to exactly one algorithm.
type Key struct {
	KID       string
	Algorithm string // ES256 or RS256
	private   crypto.Signer
}

// GenerateKey makes a new key for alg: P-256 for ES256, RSA 3072 for RS256,
// with a random kid.
func GenerateKey(alg string) (Key, error) {
	if err := CheckAlgorithm(alg); err != nil {
		return Key{}, err
	}
	var kid [16]byte
	if _, err := rand.Read(kid[:]); err != nil {
		return Key{}, fmt.Errorf("generate kid: %w", err)
	}
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	}
	if err != nil {
		return Key{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return Key{KID: base64.RawURLEncoding.EncodeToString(kid[:]), Algorithm: alg, private: priv}, nil
}

// MarshalPrivate encodes the private key as PKCS#8 DER, for storage.
func MarshalPrivate(k Key) ([]byte, error) {
	if k.private == nil {
		return nil, errors.New("marshal signing key: no private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("marshal signing key %s: %w", k.KID, err)
	}
	return der, nil
}

// ParsePrivate decodes a PKCS#8 DER private key stored by MarshalPrivate and
// checks that it suits alg.
func ParsePrivate(kid, alg string, der []byte) (Key, error) {
	if kid == "" {
		return Key{}, errors.New("parse signing key: empty kid")
	}
	if err := CheckAlgorithm(alg); err != nil {
		return Key{}, fmt.Errorf("parse signing key %s: %w", kid, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return Key{}, fmt.Errorf("parse signing key %s: %w", kid, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok || !keyFits(alg, priv.Public()) {
		return Key{}, fmt.Errorf("parse signing key %s: a %T is not a %s key", kid, parsed, alg)
	}
	return Key{KID: kid, Algorithm: alg, private: priv}, nil
}

// PrivateKey returns the private key, for signers other than Sign (such as an
// OpenID provider's ID tokens).
func (k Key) PrivateKey() crypto.Signer { return k.private }

// PublicJWK returns the public half as a JWK with kid, alg and use "sig".
func (k Key) PublicJWK() jose.JSONWebKey {
	var pub crypto.PublicKey
	if k.private != nil {
		pub = k.private.Public()
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.KID, Algorithm: k.Algorithm, Use: "sig"}
}

// keyFits reports whether pub is a key of the type and size alg needs.
func keyFits(alg string, pub crypto.PublicKey) bool {
	switch alg {
	case ES256:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve == elliptic.P256()
	case RS256:
		k, ok := pub.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= minRSABits
	}
	return false
}
