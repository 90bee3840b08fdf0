package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Forged and mis-issued tokens get 401 with error="invalid_token".
func TestForgedAccessTokensAreRefused(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	_, _, good := o.Token(o.App, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if code, _, _ := o.Call("POST", "/api/v1/search", good.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("genuine token: %d", code)
	}
	parts := strings.Split(good.AccessToken, ".")
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(raw, &header)
	withHeader := func(h map[string]any, sig string) string {
		b, _ := json.Marshal(h)
		return base64.RawURLEncoding.EncodeToString(b) + "." + parts[1] + "." + sig
	}
	clone := func(changes map[string]any) map[string]any {
		h := map[string]any{}
		for k, v := range header {
			h[k] = v
		}
		for k, v := range changes {
			h[k] = v
		}
		return h
	}

	// Tokens signed with the server's real key but with claims it never issues.
	store := postgres.NewSigningKeyStore(o.Pool(), "ES256", o.Keyring())
	key, err := store.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signed := func(mut func(*jwt.AccessClaims)) string {
		now := time.Now()
		c := jwt.AccessClaims{Issuer: o.Base, Subject: o.App.AppID, Audience: []string{o.Base}, ClientID: o.App.AppID,
			Scope: []string{"memories:read"}, JTI: "no-such-grant.x", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		mut(&c)
		tok, err := jwt.Sign(key, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	forged := map[string]string{
		"alg none":      withHeader(clone(map[string]any{"alg": "none"}), ""),
		"HS256":         withHeader(clone(map[string]any{"alg": "HS256"}), parts[2]),
		"unknown kid":   withHeader(clone(map[string]any{"kid": "not-a-key"}), parts[2]),
		"bad signature": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"typ JWT":       withHeader(clone(map[string]any{"typ": "JWT"}), parts[2]),
		"wrong issuer":  signed(func(c *jwt.AccessClaims) { c.Issuer = "https://evil.example" }),
		"wrong audience": signed(func(c *jwt.AccessClaims) {
			c.Audience = []string{"https://other.example"}
		}),
		"expired": signed(func(c *jwt.AccessClaims) {
			c.IssuedAt, c.ExpiresAt = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
		}),
		"unknown grant": signed(func(*jwt.AccessClaims) {}),
	}
	for name, tok := range forged {
		code, hdr, _ := o.Call("POST", "/api/v1/search", tok, map[string]any{"query": "x"})
		if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: %d %q", name, code, hdr.Get("WWW-Authenticate"))
		}
	}
}

// keys rotate adds a key; tokens signed by the old one keep working and the
// JWKS publishes both.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	_, _, before := o.Token(o.App, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	out, err := o.RunCLI("keys", "rotate")
	if err != nil || !strings.Contains(out, `"kid"`) {
		t.Fatalf("keys rotate: %q %v", out, err)
	}
	var rotated struct{ Kid string }
	_ = json.Unmarshal([]byte(out), &rotated)
	_, _, after := o.Token(o.App, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	for name, tok := range map[string]string{"old key": before.AccessToken, "new key": after.AccessToken} {
		if code, _, _ := o.Call("POST", "/api/v1/search", tok, map[string]any{"query": "x"}); code != http.StatusOK {
			t.Fatalf("token signed by the %s: %d", name, code)
		}
	}
	if kidOf(t, after.AccessToken) != rotated.Kid || kidOf(t, before.AccessToken) == rotated.Kid {
		t.Fatalf("the new token is not signed by the rotated key")
	}
	_, _, jwks := o.Call("GET", "/oauth/keys", "", nil)
	if keys, _ := jwks["keys"].([]any); len(keys) != 2 {
		t.Fatalf("JWKS after rotation: %v", jwks)
	}
	for _, k := range jwks["keys"].([]any) {
		if _, private := k.(map[string]any)["d"]; private {
			t.Fatal("the JWKS exposes a private key")
		}
	}
}

func kidOf(t *testing.T, token string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h struct{ Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}
