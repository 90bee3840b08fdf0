package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// oauthEnv is a running deployment with one OAuth client and one end user.
type oauthEnv struct {
	*env
	app oauthApp
}

const (
	aliceEmail    = "alice@example.com"
	alicePassword = "correct horse battery staple"
)

func newOAuthEnv(t *testing.T, extra map[string]string) *oauthEnv {
	t.Helper()
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	for k, v := range extra {
		e.vars[k] = v
	}
	app := e.createOAuthApp("Travel GPT", chatGPTCallback)
	e.createUser(aliceEmail, alicePassword)
	e.start("serve")
	return &oauthEnv{env: e, app: app}
}

// code runs the browser flow and returns the code at the callback.
func (o *oauthEnv) code(q url.Values) string {
	o.t.Helper()
	cb := newBrowser(o.env).authorize(q, aliceEmail, alicePassword)
	if c := cb.Query().Get("code"); c != "" {
		return c
	}
	o.t.Fatalf("no code at the callback: %s", cb)
	return ""
}

func exchange(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {chatGPTCallback}}
}

func TestAuthorizeRejections(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)

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
		q := authorizeQuery(o.app, "st-"+name)
		mutate(q)
		code, hdr, body := newBrowser(o.env).get("/oauth/authorize?" + q.Encode())
		loc, _ := url.Parse(hdr.Get("Location"))
		if code/100 != 3 || loc == nil || !strings.HasPrefix(loc.String(), chatGPTCallback) ||
			loc.Query().Get("error") == "" || loc.Query().Get("state") != "st-"+name || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q %s", name, code, hdr.Get("Location"), body)
		}
	}

	// A redirect URI that is not registered exactly is never redirected to.
	for _, bad := range []string{chatGPTCallback + "/", strings.Replace(chatGPTCallback, "chatgpt", "ChatGPT", 1),
		chatGPTCallback + "?x=1", "https://evil.example/callback"} {
		q := authorizeQuery(o.app, "st")
		q.Set("redirect_uri", bad)
		code, hdr, _ := newBrowser(o.env).get("/oauth/authorize?" + q.Encode())
		if code/100 == 3 && strings.HasPrefix(hdr.Get("Location"), bad) || code/100 != 4 {
			t.Errorf("redirect_uri %q: %d Location %q", bad, code, hdr.Get("Location"))
		}
	}
}

func TestCodeRejections(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	other := o.createOAuthApp("Other GPT", chatGPTCallback)

	// A code is single-use; its second use revokes what the first issued.
	c := o.code(authorizeQuery(o.app, "s1"))
	status, _, first := o.token(o.app, true, exchange(c))
	if status != http.StatusOK {
		t.Fatalf("first redemption: %d %+v", status, first)
	}
	status, hdr, again := o.token(o.app, true, exchange(c))
	if status != http.StatusBadRequest || again.Error != "invalid_grant" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("second redemption: %d %+v %q", status, again, hdr.Get("Cache-Control"))
	}
	if code, _, _ := o.call("POST", "/api/v1/search", first.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("token of a reused code still works: %d", code)
	}
	if status, _, r := o.token(o.app, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("refresh token of a reused code still works: %d %+v", status, r)
	}

	// Bound to the client and the redirect URI.
	if status, _, r := o.token(other, true, exchange(o.code(authorizeQuery(o.app, "s2")))); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("code redeemed by another client: %d %+v", status, r)
	}
	wrongRedirect := exchange(o.code(authorizeQuery(o.app, "s3")))
	wrongRedirect.Set("redirect_uri", "https://chat.openai.com/aip/g-test/oauth/callback")
	if status, _, r := o.token(o.app, true, wrongRedirect); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("redirect_uri mismatch at the token endpoint: %d %+v", status, r)
	}

	// At most ten minutes old.
	expired := o.code(authorizeQuery(o.app, "s4"))
	if _, err := o.pool().Exec(context.Background(), `UPDATE custom_gpt_auth_requests SET code_issued_at = code_issued_at - interval '11 minutes'
		WHERE code_hash = $1`, sha256Sum(expired)); err != nil {
		t.Fatal(err)
	}
	if status, _, r := o.token(o.app, true, exchange(expired)); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("expired code: %d %+v", status, r)
	}

	// Concurrent redemptions: exactly one wins.
	racy := o.code(authorizeQuery(o.app, "s5"))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 6 {
		wg.Go(func() {
			if status, _, _ := o.token(o.app, true, exchange(racy)); status == http.StatusOK {
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
	wrong := o.app
	wrong.ClientSecret = "cgcs_wrong"
	status, hdr, r := o.token(wrong, true, exchange("whatever"))
	if status != http.StatusUnauthorized || r.Error != "invalid_client" || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %+v %q", status, r, hdr.Get("WWW-Authenticate"))
	}
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	withPKCE := func(state string) url.Values {
		q := authorizeQuery(o.app, state)
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		return q
	}
	for name, v := range map[string]string{"missing verifier": "", "wrong verifier": strings.Repeat("w", 50)} {
		form := exchange(o.code(withPKCE(name)))
		if v != "" {
			form.Set("code_verifier", v)
		}
		if status, _, r := o.token(o.app, true, form); status != http.StatusBadRequest || r.Error != "invalid_grant" {
			t.Errorf("%s: %d %+v", name, status, r)
		}
	}
	form := exchange(o.code(withPKCE("right")))
	form.Set("code_verifier", verifier)
	if status, _, r := o.token(o.app, true, form); status != http.StatusOK || r.AccessToken == "" {
		t.Fatalf("right verifier: %d %+v", status, r)
	}
	// A verifier sent although the request had no challenge is refused.
	form = exchange(o.code(authorizeQuery(o.app, "none")))
	form.Set("code_verifier", verifier)
	if status, _, r := o.token(o.app, true, form); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("verifier without challenge: %d %+v", status, r)
	}
}

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// postForm sends a form with client credentials in the Basic header.
func (o *oauthEnv) postForm(path string, form url.Values, clientID, secret string) (int, http.Header, map[string]any) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, o.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, m
}

func TestClientCredentialsIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	status, _, cc := o.token(o.app, false, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if status != http.StatusOK || cc.AccessToken == "" || cc.RefreshToken != "" || cc.Scope != "memories:read" {
		t.Fatalf("client_credentials: %d %+v", status, cc)
	}
	// The application is the subject: its own memory space, read-only here.
	if code, _, _ := o.call("POST", "/api/v1/search", cc.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("search with a client token: %d", code)
	}
	code, hdr, body := o.call("POST", "/api/v1/memories", cc.AccessToken, map[string]any{"content": "x"})
	if code != http.StatusForbidden || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(hdr.Get("WWW-Authenticate"), `scope="memories:write"`) {
		t.Fatalf("write with a read-only token: %d %q %v", code, hdr.Get("WWW-Authenticate"), body)
	}

	// Introspection needs client authentication; inactive is exactly {"active": false}.
	if code, _, _ := o.postForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, "", ""); code != http.StatusUnauthorized && code != http.StatusBadRequest {
		t.Fatalf("introspection without client auth: %d", code)
	}
	code, _, in := o.postForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, o.app.AppID, o.app.ClientSecret)
	if code != http.StatusOK || in["active"] != true || in["sub"] != o.app.AppID || in["scope"] != "memories:read" {
		t.Fatalf("introspection of an active token: %d %v", code, in)
	}
	code, _, in = o.postForm("/oauth/introspect", url.Values{"token": {"garbage"}}, o.app.AppID, o.app.ClientSecret)
	if code != http.StatusOK || len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection of garbage: %d %v", code, in)
	}

	// Revocation answers 200 for anything; a revoked token stops working.
	if code, _, _ := o.postForm("/oauth/revoke", url.Values{"token": {"unknown"}}, o.app.AppID, o.app.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoking an unknown token: %d", code)
	}
	if code, _, _ := o.postForm("/oauth/revoke", url.Values{"token": {cc.AccessToken}}, o.app.AppID, o.app.ClientSecret); code != http.StatusOK {
		t.Fatalf("revocation: %d", code)
	}
	code, hdr, _ = o.call("POST", "/api/v1/search", cc.AccessToken, map[string]any{"query": "x"})
	if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("revoked token: %d %q", code, hdr.Get("WWW-Authenticate"))
	}
	code, _, in = o.postForm("/oauth/introspect", url.Values{"token": {cc.AccessToken}}, o.app.AppID, o.app.ClientSecret)
	if code != http.StatusOK || len(in) != 1 || in["active"] != false {
		t.Fatalf("introspection of a revoked token: %d %v", code, in)
	}

	// A refresh token revoked through the endpoint revokes its grant.
	_, _, tok := o.token(o.app, true, exchange(o.code(authorizeQuery(o.app, "r"))))
	if code, _, _ := o.postForm("/oauth/revoke", url.Values{"token": {tok.RefreshToken}}, o.app.AppID, o.app.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoking a refresh token: %d", code)
	}
	if code, _, _ := o.call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("access token of a revoked grant: %d", code)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		code, _, d := o.call("GET", path, "", nil)
		if code != http.StatusOK || d["issuer"] != o.base || d["token_endpoint"] != o.base+"/oauth/token" ||
			d["authorization_endpoint"] != o.base+"/oauth/authorize" || d["jwks_uri"] != o.base+"/oauth/keys" ||
			d["revocation_endpoint"] != o.base+"/oauth/revoke" || d["introspection_endpoint"] != o.base+"/oauth/introspect" {
			t.Fatalf("%s: %d %v", path, code, d)
		}
		methods, _ := json.Marshal(d["code_challenge_methods_supported"])
		auth, _ := json.Marshal(d["token_endpoint_auth_methods_supported"])
		if string(methods) != `["S256"]` || !strings.Contains(string(auth), "client_secret_basic") || !strings.Contains(string(auth), "client_secret_post") {
			t.Fatalf("%s: methods %s, auth %s", path, methods, auth)
		}
	}
}
