package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestAuthorizeRejections(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)

	// Errors the client can be told about go back to its redirect URI with the state.
	for name, mutate := range map[string]func(url.Values){
		"plain PKCE": func(q url.Values) {
			q.Set("code_challenge", strings.Repeat("a", 43))
			q.Set("code_challenge_method", "plain")
		},
		"unknown PKCE method": func(q url.Values) {
			q.Set("code_challenge", strings.Repeat("a", 43))
			q.Set("code_challenge_method", "S512")
		},
		"unsupported scope": func(q url.Values) { q.Set("scope", "admin") },
	} {
		q := harness.AuthorizeQuery(o.App, "st-"+name)
		mutate(q)
		code, hdr, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		loc, _ := url.Parse(hdr.Get("Location"))
		if code/100 != 3 || loc == nil || !strings.HasPrefix(loc.String(), harness.ChatGPTCallback) ||
			loc.Query().Get("error") == "" || loc.Query().Get("state") != "st-"+name || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q %s", name, code, hdr.Get("Location"), body)
		}
	}

	// A redirect URI that is not registered exactly is never redirected to.
	for _, bad := range []string{harness.ChatGPTCallback + "/", strings.Replace(harness.ChatGPTCallback, "chatgpt", "ChatGPT", 1),
		harness.ChatGPTCallback + "?x=1", "https://evil.example/callback"} {
		q := harness.AuthorizeQuery(o.App, "st")
		q.Set("redirect_uri", bad)
		code, hdr, _ := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		if code/100 == 3 && strings.HasPrefix(hdr.Get("Location"), bad) || code/100 != 4 {
			t.Errorf("redirect_uri %q: %d Location %q", bad, code, hdr.Get("Location"))
		}
	}
}

func TestCodeRejections(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)

	// A code is single-use; its second use revokes what the first issued.
	c := o.Code(harness.AuthorizeQuery(o.App, "s1"))
	status, _, first := o.Token(o.App, true, harness.Exchange(c))
	if status != http.StatusOK {
		t.Fatalf("first redemption: %d %+v", status, first)
	}
	status, hdr, again := o.Token(o.App, true, harness.Exchange(c))
	if status != http.StatusBadRequest || again.Error != "invalid_grant" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("second redemption: %d %+v %q", status, again, hdr.Get("Cache-Control"))
	}
	if code, _, _ := o.Call("POST", "/api/v1/search", first.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("token of a reused code still works: %d", code)
	}
	if status, _, r := o.Token(o.App, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("refresh token of a reused code still works: %d %+v", status, r)
	}

	// Bound to the client and the redirect URI.
	if status, _, r := o.Token(other, true, harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "s2")))); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("code redeemed by another client: %d %+v", status, r)
	}
	wrongRedirect := harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "s3")))
	wrongRedirect.Set("redirect_uri", "https://chat.openai.com/aip/g-test/oauth/callback")
	if status, _, r := o.Token(o.App, true, wrongRedirect); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("redirect_uri mismatch at the token endpoint: %d %+v", status, r)
	}

	// At most ten minutes old.
	expired := o.Code(harness.AuthorizeQuery(o.App, "s4"))
	if _, err := o.Pool().Exec(context.Background(), `UPDATE custom_gpt_auth_requests SET code_issued_at = code_issued_at - interval '11 minutes'
		WHERE code_hash = $1`, sha256Sum(expired)); err != nil {
		t.Fatal(err)
	}
	if status, _, r := o.Token(o.App, true, harness.Exchange(expired)); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("expired code: %d %+v", status, r)
	}

	// Concurrent redemptions: exactly one wins.
	racy := o.Code(harness.AuthorizeQuery(o.App, "s5"))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 6 {
		wg.Go(func() {
			if status, _, _ := o.Token(o.App, true, harness.Exchange(racy)); status == http.StatusOK {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent redemptions won, want 1", wins)
	}

	// Wrong client secret: 401 invalid_client with a challenge.
	wrong := o.App
	wrong.ClientSecret = "cgcs_wrong"
	status, hdr, r := o.Token(wrong, true, harness.Exchange("whatever"))
	if status != http.StatusUnauthorized || r.Error != "invalid_client" || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %+v %q", status, r, hdr.Get("WWW-Authenticate"))
	}
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	withPKCE := func(state string) url.Values {
		q := harness.AuthorizeQuery(o.App, state)
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		return q
	}
	for name, v := range map[string]string{"missing verifier": "", "wrong verifier": strings.Repeat("w", 50)} {
		form := harness.Exchange(o.Code(withPKCE(name)))
		if v != "" {
			form.Set("code_verifier", v)
		}
		if status, _, r := o.Token(o.App, true, form); status != http.StatusBadRequest || r.Error != "invalid_grant" {
			t.Errorf("%s: %d %+v", name, status, r)
		}
	}
	form := harness.Exchange(o.Code(withPKCE("right")))
	form.Set("code_verifier", verifier)
	if status, _, r := o.Token(o.App, true, form); status != http.StatusOK || r.AccessToken == "" {
		t.Fatalf("right verifier: %d %+v", status, r)
	}
	// A verifier sent although the request had no challenge is refused.
	form = harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "none")))
	form.Set("code_verifier", verifier)
	if status, _, r := o.Token(o.App, true, form); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("verifier without challenge: %d %+v", status, r)
	}
}

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func TestClientCredentialsIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	status, _, cc := o.Token(o.App, false, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if status != http.StatusOK || cc.AccessToken == "" || cc.RefreshToken != "" || cc.Scope != "memories:read" {
		t.Fatalf("client_credentials: %d %+v", status, cc)
	}
	// The application is the subject: its own memory space, read-only here.
	if code, _, _ := o.Call("POST", "/api/v1/search", cc.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("search with a client token: %d", code)
	}
	code, hdr, body := o.Call("POST", "/api/v1/memories", cc.AccessToken, map[string]any{"content": "x"})
	if code != http.StatusForbidden || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(hdr.Get("WWW-Authenticate"), `scope="memories:write"`) {
		t.Fatalf("write with a read-only token: %d %q %v", code, hdr.Get("WWW-Authenticate"), body)
	}

	// Introspection needs client authentication; inactive is exactly {"active": false}.
	if code, _, _ := o.PostForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, "", ""); code != http.StatusUnauthorized && code != http.StatusBadRequest {
		t.Fatalf("introspection without client auth: %d", code)
	}
	code, _, in := o.PostForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, o.App.AppID, o.App.ClientSecret)
	if code != http.StatusOK || in["active"] != true || in["sub"] != o.App.AppID || in["scope"] != "memories:read" {
		t.Fatalf("introspection of an active token: %d %v", code, in)
	}
	code, _, in = o.PostForm("/oauth/introspect", url.Values{"token": {"garbage"}}, o.App.AppID, o.App.ClientSecret)
	if code != http.StatusOK || len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection of garbage: %d %v", code, in)
	}

	// Revocation answers 200 for anything; a revoked token stops working.
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {"unknown"}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoking an unknown token: %d", code)
	}
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {cc.AccessToken}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revocation: %d", code)
	}
	code, hdr, _ = o.Call("POST", "/api/v1/search", cc.AccessToken, map[string]any{"query": "x"})
	if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("revoked token: %d %q", code, hdr.Get("WWW-Authenticate"))
	}
	code, _, in = o.PostForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, o.App.AppID, o.App.ClientSecret)
	if code != http.StatusOK || len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection of a revoked token: %d %v", code, in)
	}

	// A refresh token revoked through the endpoint revokes its grant.
	_, _, tok := o.Token(o.App, true, harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "r"))))
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {tok.RefreshToken}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoking a refresh token: %d", code)
	}
	if code, _, _ := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("access token of a revoked grant: %d", code)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		code, _, d := o.Call("GET", path, "", nil)
		if code != http.StatusOK || d["issuer"] != o.Base || d["token_endpoint"] != o.Base+"/oauth/token" ||
			d["authorization_endpoint"] != o.Base+"/oauth/authorize" || d["jwks_uri"] != o.Base+"/oauth/keys" ||
			d["revocation_endpoint"] != o.Base+"/oauth/revoke" || d["introspection_endpoint"] != o.Base+"/oauth/introspect" {
			t.Fatalf("%s: %d %v", path, code, d)
		}
		methods, _ := json.Marshal(d["code_challenge_methods_supported"])
		auth, _ := json.Marshal(d["token_endpoint_auth_methods_supported"])
		if string(methods) != `["S256"]` || !strings.Contains(string(auth), "client_secret_basic") || !strings.Contains(string(auth), "client_secret_post") {
			t.Fatalf("%s: methods %s, auth %s", path, methods, auth)
		}
	}
}
