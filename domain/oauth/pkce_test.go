package oauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// RFC 7636 appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestValidateChallenge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		challenge, method string
		ok                bool
	}{
		{"", "", true},
		{rfcChallenge, "S256", true},
		{rfcChallenge, "plain", false},
		{rfcChallenge, "", false}, // RFC 7636 defaults to plain: refused
		{rfcChallenge, "S512", false},
		{"", "S256", false},
		{"short", "S256", false},
	}
	for _, c := range cases {
		err := oauth.ValidateChallenge(c.challenge, c.method)
		if (err == nil) != c.ok {
			t.Errorf("ValidateChallenge(%q, %q) = %v, want ok=%v", c.challenge, c.method, err, c.ok)
		}
		var oe *oauth.Error
		if err != nil && (!errors.As(err, &oe) || oe.Code != "invalid_request") {
			t.Errorf("ValidateChallenge(%q, %q): %v is not invalid_request", c.challenge, c.method, err)
		}
	}
}

func TestVerifyCodeVerifier(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, challenge, method, verifier string
		ok                                bool
	}{
		{"rfc 7636 vector", rfcChallenge, "S256", rfcVerifier, true},
		{"wrong verifier", rfcChallenge, "S256", strings.Repeat("a", 43), false},
		{"missing verifier", rfcChallenge, "S256", "", false},
		{"verifier too short", rfcChallenge, "S256", rfcVerifier[:42], false},
		{"verifier with bad characters", rfcChallenge, "S256", rfcVerifier[:42] + "+", false},
		{"plain challenge equal to verifier", rfcVerifier, "plain", rfcVerifier, false},
		{"no PKCE at all", "", "", "", true},
		{"verifier without challenge", "", "", rfcVerifier, false},
	}
	for _, c := range cases {
		err := oauth.VerifyCodeVerifier(c.challenge, c.method, c.verifier)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
		var oe *oauth.Error
		if err != nil && (!errors.As(err, &oe) || oe.Code != "invalid_grant") {
			t.Errorf("%s: %v is not invalid_grant", c.name, err)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	if got := oauth.Restrict(nil); len(got) != 0 {
		t.Errorf("empty request grants %q", got)
	}
	if got := oauth.Restrict([]string{"admin", "openid"}); len(got) != 0 {
		t.Errorf("unsupported scopes grant %q", got)
	}
	if got := oauth.Restrict([]string{"memories:read", "admin", "memories:read", "openid"}).String(); got != "memories:read" {
		t.Errorf("restricted to %q", got)
	}
	s := oauth.ParseScopes(" memories:write  memories:read memories:write ")
	if !s.Has(oauth.ScopeRead) || !s.Has(oauth.ScopeWrite) || len(s) != 2 {
		t.Errorf("parsed %v", s)
	}
}
