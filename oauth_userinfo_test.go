package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// userinfo calls /oauth/userinfo with a bearer token.
func (o *oauthEnv) userinfo(token string) (int, map[string]any) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, o.base+"/oauth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// /oauth/userinfo answers for exactly the access tokens the API accepts.
func TestUserinfoHonoursRevocation(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	pair := func(state string) tokenResponse {
		t.Helper()
		status, _, tok := o.token(o.app, true, exchange(o.code(authorizeQuery(o.app, state))))
		if status != http.StatusOK {
			t.Fatalf("code exchange: %d %+v", status, tok)
		}
		return tok
	}

	live := pair("live")
	if code, info := o.userinfo(live.AccessToken); code != http.StatusOK || info["sub"] == nil || info["sub"] == "" {
		t.Fatalf("userinfo of a live token: %d %v", code, info)
	}

	alone := pair("alone")
	if code, _, _ := o.postForm("/oauth/revoke", url.Values{"token": {alone.AccessToken}}, o.app.AppID, o.app.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	family := pair("family")
	if code, _, _ := o.postForm("/oauth/revoke", url.Values{"token": {family.RefreshToken}}, o.app.AppID, o.app.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	for name, token := range map[string]string{"revoked alone": alone.AccessToken, "of a revoked grant": family.AccessToken} {
		req, _ := http.NewRequest(http.MethodGet, o.base+"/oauth/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo of a token %s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// The API agrees.
	if code, _, _ := o.call("POST", "/api/v1/search", alone.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Errorf("API with a revoked token: %d", code)
	}
}
