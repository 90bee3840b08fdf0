package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
)

// The fake refuses what a real provider refuses, so tests of the service
// cannot pass by accident: no PKCE, a wrong verifier, a reused code, a wrong
// client secret.
func TestProviderIsStrict(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:1/cb"
	p := newStrictProvider(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	verifier := "a-verifier-of-at-least-forty-three-characters-long"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"c"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid email"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	authorize := func(q url.Values) *http.Response {
		resp, err := noFollow.Get(p.Issuer() + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, drop := range []string{"code_challenge", "code_challenge_method", "nonce"} {
		bad := url.Values{}
		for k, v := range q {
			bad[k] = v
		}
		bad.Del(drop)
		if resp := authorize(bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("authorize without %s: %d", drop, resp.StatusCode)
		}
	}
	code := func() string {
		resp := authorize(q)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
			t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}
	exchange := func(code, secret, verifier string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
		req, _ := http.NewRequest(http.MethodPost, p.Issuer()+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("c", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := exchange(code(), "s", verifier+"x"); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("wrong verifier: %d %v", status, body)
	}
	if status, body := exchange(code(), "wrong", verifier); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, body)
	}
	c := code()
	if status, body := exchange(c, "s", verifier); status != http.StatusOK || body["id_token"] == nil {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if status, body := exchange(c, "s", verifier); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("reused code: %d %v", status, body)
	}
}

// signIn runs one authorization and code exchange against p (made by
// newStrictProvider) and returns the tokens.
func signIn(t *testing.T, p *oidctest.Provider) (accessToken, idToken string) {
	t.Helper()
	const redirect = "http://127.0.0.1:1/cb"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := "a-verifier-of-at-least-forty-three-characters-long"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"c"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid email"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := noFollow.Get(p.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("c", "s")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.IDToken == "" {
		t.Fatalf("exchange: %d %+v %v", resp.StatusCode, body, err)
	}
	return body.AccessToken, body.IDToken
}

func newStrictProvider(t *testing.T) *oidctest.Provider {
	p := oidctest.NewProvider(t, oidctest.Config{ClientID: "c", ClientSecret: "s", RedirectURI: "http://127.0.0.1:1/cb"})
	p.SignInAs(oidctest.User{Subject: "u1", Email: "u1@example.com", EmailVerified: true})
	return p
}

// verify checks idToken's signature against the provider's JWKS as it is now
// and returns the kid it was signed under.
func verify(t *testing.T, p *oidctest.Provider, idToken string) string {
	t.Helper()
	resp, err := http.Get(p.Issuer() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys under kid %q", len(keys), kid)
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Fatalf("ID token under kid %q: %v", kid, err)
	}
	return kid
}

// After a rotation the ID tokens are signed by a new key under a new kid, and
// the JWKS publishes it beside the old one.
func TestProviderRotatesItsSigningKey(t *testing.T) {
	t.Parallel()
	p := newStrictProvider(t)
	_, before := signIn(t, p)
	oldKid := verify(t, p, before)
	if err := p.RotateKey(); err != nil {
		t.Fatal(err)
	}
	_, after := signIn(t, p)
	if newKid := verify(t, p, after); newKid == oldKid {
		t.Fatalf("after the rotation the ID token is still signed under %q", oldKid)
	}
	if verify(t, p, before) != oldKid {
		t.Fatal("the old key left the JWKS")
	}
	if n := p.KeyFetches(); n != 3 {
		t.Fatalf("%d JWKS fetches counted, want 3", n)
	}
}

// userinfo fails, answers late, or answers for another subject on request.
func TestProviderUserinfoMisbehavesOnRequest(t *testing.T) {
	t.Parallel()
	p := newStrictProvider(t)
	access, _ := signIn(t, p)
	userinfo := func(c *http.Client) (int, map[string]any, error) {
		req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, nil
	}
	if status, body, err := userinfo(http.DefaultClient); err != nil || status != http.StatusOK || body["sub"] != "u1" {
		t.Fatalf("userinfo: %d %v %v", status, body, err)
	}

	p.FailUserinfo(http.StatusBadGateway)
	if status, body, err := userinfo(http.DefaultClient); err != nil || status != http.StatusBadGateway || body["sub"] != nil {
		t.Errorf("failing userinfo: %d %v %v", status, body, err)
	}
	p.FailUserinfo(0)

	p.UserinfoSubject("someone-else")
	if status, body, err := userinfo(http.DefaultClient); err != nil || status != http.StatusOK || body["sub"] != "someone-else" {
		t.Errorf("userinfo for another subject: %d %v %v", status, body, err)
	}
	p.UserinfoSubject("")

	p.SlowUserinfo(time.Hour)
	if status, body, err := userinfo(&http.Client{Timeout: 200 * time.Millisecond}); err == nil {
		t.Errorf("slow userinfo answered at once: %d %v", status, body)
	}
	p.SlowUserinfo(0)
	if status, body, err := userinfo(http.DefaultClient); err != nil || status != http.StatusOK || body["sub"] != "u1" {
		t.Fatalf("userinfo once mended: %d %v %v", status, body, err)
	}
}
