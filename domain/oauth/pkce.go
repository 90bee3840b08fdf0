package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// MethodS256 is the only PKCE method the server accepts (RFC 7636, RFC 9700).
const MethodS256 = "S256"

// ValidateChallenge checks an authorization request's PKCE parameters: no
// challenge at all is allowed (confidential clients such as ChatGPT send none),
// but a challenge must use S256 — "plain" and unknown methods are refused,
// as is a method without a challenge.
func ValidateChallenge(challenge, method string) error {
	switch {
	case challenge == "" && method == "":
		return nil
	case challenge == "":
		return errInvalidRequest("code_challenge_method given without code_challenge")
	case method != MethodS256:
		return errInvalidRequest("code_challenge_method must be S256")
	case len(challenge) != 43:
		return errInvalidRequest("code_challenge must be a base64url SHA-256 digest")
	}
	return nil
}

// VerifyCodeVerifier checks a token request's code_verifier against the
// challenge of its authorization request. A verifier without a challenge is
// refused: it would let a downgraded request pass as PKCE-protected.
func VerifyCodeVerifier(challenge, method, verifier string) error {
	if challenge == "" {
		if verifier != "" {
			return ErrInvalidGrant("code_verifier sent but no code_challenge was")
		}
		return nil
	}
	if method != MethodS256 {
		return ErrInvalidGrant("unsupported code_challenge_method")
	}
	if !validVerifier(verifier) {
		return ErrInvalidGrant("code_verifier missing or malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	computed := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) != 1 {
		return ErrInvalidGrant("code_verifier does not match code_challenge")
	}
	return nil
}

// validVerifier: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
