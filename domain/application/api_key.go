package application

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// KeyPrefix makes keys recognisable to secret scanners and humans.
const KeyPrefix = "cgpt_"

// NewAPIKey returns a fresh random key and the hash to store. Keys carry 256 bits
// of entropy, so a fast hash is enough: no dictionary attack can reach them, and
// authentication stays cheap on every request.
func NewAPIKey() (key string, hash []byte) {
	key = KeyPrefix + randomToken()
	return key, HashAPIKey(key)
}

// randomToken is 256 random bits, base64url-encoded (43 characters).
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashAPIKey is the stored form of a key.
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// LooksLikeAPIKey filters obvious garbage before any lookup.
func LooksLikeAPIKey(s string) bool {
	return strings.HasPrefix(s, KeyPrefix) && len(s) == len(KeyPrefix)+43
}
