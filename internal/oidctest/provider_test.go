package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
)

// The fake refuses what a real provider refuses, so tests of the service
// cannot pass by accident: no PKCE, a wrong verifier, a reused code, a wrong
// client secret.
func TestProviderIsStrict(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:1/cb"
	p := oidctest.NewProvider(t, oidctest.Config{ClientID: "c", ClientSecret: "s", RedirectURI: redirect})
	p.SignInAs(oidctest.User{Subject: "u1", Email: "u1@example.com", EmailVerified: true})
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
