package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// FuzzParseScopes checks the scope parser: every scope is one non-empty word,
// each appears once, the wire form reads back the same, and Restrict keeps
// exactly the supported ones.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"", " ", "memories:read", "memories:read memories:write", "memories:write memories:read memories:write",
		"  memories:read\tmemories:write\n", "memories:read\u00a0memories:write", "memories:READ", "openid profile",
		"memories:read\x00", "\xff\xfe", "日本語 memories:read", strings.Repeat("memories:read ", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes := oauth.ParseScopes(s)
		for i, sc := range scopes {
			if sc == "" || len(strings.Fields(sc)) != 1 || strings.TrimSpace(sc) != sc {
				t.Fatalf("ParseScopes(%q) holds %q, not one word", s, sc)
			}
			if slices.Index(scopes, sc) != i {
				t.Fatalf("ParseScopes(%q) holds %q twice", s, sc)
			}
		}
		if again := oauth.ParseScopes(scopes.String()); !slices.Equal(again, scopes) {
			t.Fatalf("ParseScopes(%q) = %q, but its wire form %q reads back as %q", s, scopes, scopes.String(), again)
		}
		restricted := oauth.Restrict(strings.Fields(s))
		for _, sc := range restricted {
			if !oauth.IsSupported(sc) || !scopes.Has(sc) {
				t.Fatalf("Restrict(%q) kept %q", s, sc)
			}
		}
		for _, sc := range scopes {
			if oauth.IsSupported(sc) && !restricted.Has(sc) {
				t.Fatalf("Restrict(%q) dropped the supported %q", s, sc)
			}
		}
	})
}

// FuzzPKCE checks that no challenge, method and verifier pass unless the
// verifier is a well-formed RFC 7636 verifier whose S256 digest is the
// challenge, and that every refusal is an OAuth error.
func FuzzPKCE(f *testing.F) {
	f.Add(rfcChallenge, "S256", rfcVerifier)
	f.Add(rfcChallenge, "plain", rfcVerifier)
	f.Add(rfcVerifier, "plain", rfcVerifier)
	f.Add(rfcChallenge, "s256", rfcVerifier)
	f.Add("", "", "")
	f.Add("", "", rfcVerifier)
	f.Add("", "S256", "")
	f.Add(rfcChallenge, "S256", "")
	f.Add(rfcChallenge, "S256", rfcVerifier+"\x00")
	f.Add(rfcChallenge+"=", "S256", rfcVerifier)
	f.Add(strings.Repeat("A", 43), "S256", strings.Repeat("~", 128))
	f.Add(strings.Repeat("A", 43), "S256", strings.Repeat("~", 129))
	f.Add("é"+strings.Repeat("A", 41), "S256", "é"+strings.Repeat("a", 42))
	f.Fuzz(func(t *testing.T, challenge, method, verifier string) {
		var oerr *oauth.Error
		if err := oauth.ValidateChallenge(challenge, method); err != nil {
			if !errors.As(err, &oerr) {
				t.Fatalf("ValidateChallenge(%q, %q) = %v, not an OAuth error", challenge, method, err)
			}
		} else if challenge != "" && (method != oauth.MethodS256 || len(challenge) != 43) {
			t.Fatalf("ValidateChallenge(%q, %q) accepted", challenge, method)
		}

		err := oauth.VerifyCodeVerifier(challenge, method, verifier)
		if err != nil {
			if !errors.As(err, &oerr) || oerr.Code != "invalid_grant" {
				t.Fatalf("VerifyCodeVerifier(%q, %q, %q) = %v, want invalid_grant", challenge, method, verifier, err)
			}
		} else if challenge != "" {
			sum := sha256.Sum256([]byte(verifier))
			if method != oauth.MethodS256 || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || !wellFormedVerifier(verifier) {
				t.Fatalf("VerifyCodeVerifier(%q, %q, %q) accepted", challenge, method, verifier)
			}
		} else if verifier != "" {
			t.Fatalf("VerifyCodeVerifier accepted verifier %q without a challenge", verifier)
		}

		// A well-formed verifier always passes against its own challenge.
		if wellFormedVerifier(verifier) {
			sum := sha256.Sum256([]byte(verifier))
			own := base64.RawURLEncoding.EncodeToString(sum[:])
			if err := oauth.ValidateChallenge(own, oauth.MethodS256); err != nil {
				t.Fatalf("the challenge of %q is refused: %v", verifier, err)
			}
			if err := oauth.VerifyCodeVerifier(own, oauth.MethodS256, verifier); err != nil {
				t.Fatalf("%q does not verify against its own challenge: %v", verifier, err)
			}
		}
	})
}

// wellFormedVerifier is RFC 7636 section 4.1, written out independently.
func wellFormedVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == ""
}

// FuzzGrantOfAccessToken checks that the grant read from a jti is the part
// before its first dot, and that jtis NewAccessTokenID makes give their grant back.
func FuzzGrantOfAccessToken(f *testing.F) {
	for _, s := range []string{"", ".", "g.r", "g", "g.r.s", "..", "\x00.x", "日本.語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, jti string) {
		grant := oauth.GrantOfAccessToken(jti)
		if !strings.Contains(jti, ".") {
			if grant != "" {
				t.Fatalf("GrantOfAccessToken(%q) = %q without a dot", jti, grant)
			}
		} else if !strings.HasPrefix(jti, grant+".") || strings.Contains(grant, ".") {
			t.Fatalf("GrantOfAccessToken(%q) = %q", jti, grant)
		}
		if !strings.Contains(jti, ".") {
			if got := oauth.GrantOfAccessToken(oauth.NewAccessTokenID(jti)); got != jti {
				t.Fatalf("the jti of grant %q gives grant %q", jti, got)
			}
		}
	})
}
