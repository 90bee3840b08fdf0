package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// /oauth/userinfo answers for exactly the access tokens the API accepts.
func TestUserinfoHonoursRevocation(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	pair := func(state string) harness.TokenResponse {
		t.Helper()
		status, _, tok := o.Token(o.App, true, harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, state))))
		if status != http.StatusOK {
			t.Fatalf("code exchange: %d %+v", status, tok)
		}
		return tok
	}

	live := pair("live")
	if code, info := o.Userinfo(live.AccessToken); code != http.StatusOK || info["sub"] == nil || info["sub"] == "" {
		t.Fatalf("userinfo of a live token: %d %v", code, info)
	}

	alone := pair("alone")
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {alone.AccessToken}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	family := pair("family")
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {family.RefreshToken}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	for name, token := range map[string]string{"revoked alone": alone.AccessToken, "of a revoked grant": family.AccessToken} {
		req, _ := http.NewRequest(http.MethodGet, o.Base+"/oauth/userinfo", nil)
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
	if code, _, _ := o.Call("POST", "/api/v1/search", alone.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Errorf("API with a revoked token: %d", code)
	}
}
