package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// OauthEnv is a running deployment with one OAuth client and one end user.
type OauthEnv struct {
	*Deployment
	App OauthApp
}

const (
	AliceEmail    = "alice@example.com"
	AlicePassword = "correct horse battery staple"
)

func NewOAuthEnv(t *testing.T, extra map[string]string) *OauthEnv {
	t.Helper()
	e := NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	for k, v := range extra {
		e.Vars[k] = v
	}
	app := e.CreateOAuthApp("Travel GPT", ChatGPTCallback)
	e.CreateUser(AliceEmail, AlicePassword)
	e.Start("serve")
	return &OauthEnv{Deployment: e, App: app}
}

// Code runs the browser flow and returns the code at the callback.
func (o *OauthEnv) Code(q url.Values) string {
	o.T.Helper()
	cb := NewBrowser(o.Deployment).Authorize(q, AliceEmail, AlicePassword)
	if c := cb.Query().Get("code"); c != "" {
		return c
	}
	o.T.Fatalf("no code at the callback: %s", cb)
	return ""
}

func Exchange(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ChatGPTCallback}}
}

// PostForm sends a form with client credentials in the Basic header.
func (o *OauthEnv) PostForm(path string, form url.Values, clientID, secret string) (int, http.Header, map[string]any) {
	o.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, o.Base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, m
}

// Connect runs the whole flow for app in b and returns the token pair.
func (o *OauthEnv) Connect(b *Browser, app OauthApp, email, password string) TokenResponse {
	o.T.Helper()
	cb := b.Authorize(AuthorizeQuery(app, "s"), email, password)
	status, _, tok := o.Token(app, true, Exchange(cb.Query().Get("code")))
	if status != http.StatusOK {
		o.T.Fatalf("connect %s for %s: %d %+v", app.AppID, email, status, tok)
	}
	return tok
}

// Works tells whether a GPT's tokens still work: its refresh token is
// refused or rotated, and its access token reaches the API or not. A refresh
// that works gives back the new pair.
func (o *OauthEnv) Works(app OauthApp, tok *TokenResponse) (refresh, access bool) {
	o.T.Helper()
	code, _, _ := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"})
	status, _, fresh := o.Token(app, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if status == http.StatusOK {
		*tok = fresh
	}
	return status == http.StatusOK, code == http.StatusOK
}

// issuedBeforeDisable is what a GPT holds for alice when she (or the GPT) is
// disabled: a code not yet redeemed, and a token pair already refreshed once.
type issuedBeforeDisable struct {
	code string
	tok  TokenResponse
}

func (o *OauthEnv) IssueBeforeDisable(t *testing.T) issuedBeforeDisable {
	t.Helper()
	pending := o.Code(AuthorizeQuery(o.App, "pending"))
	status, _, first := o.Token(o.App, true, Exchange(o.Code(AuthorizeQuery(o.App, "live"))))
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %+v", status, first)
	}
	status, _, tok := o.Token(o.App, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %+v", status, tok)
	}
	if code, _, body := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("search before disable: %d %v", code, body)
	}
	if code, info := o.Userinfo(tok.AccessToken); code != http.StatusOK || info["sub"] == "" {
		t.Fatalf("userinfo before disable: %d %v", code, info)
	}
	return issuedBeforeDisable{code: pending, tok: tok}
}

// WantNothingWorks checks that nothing issued before the disable still works.
func (o *OauthEnv) WantNothingWorks(t *testing.T, held issuedBeforeDisable) {
	t.Helper()
	if status, _, r := o.Token(o.App, true, Exchange(held.code)); status == http.StatusOK || r.AccessToken != "" {
		t.Errorf("a code issued before the disable was redeemed: %d %+v", status, r)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {held.tok.RefreshToken}}
	if status, _, r := o.Token(o.App, true, refresh); status == http.StatusOK || r.AccessToken != "" {
		t.Errorf("a refresh token issued before the disable was used: %d %+v", status, r)
	}
	if code, _, body := o.Call("POST", "/api/v1/search", held.tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("an access token issued before the disable reached the API: %d %v", code, body)
	}
	if code, info := o.Userinfo(held.tok.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("userinfo answered an access token issued before the disable: %d %v", code, info)
	}
}

// oauthAnswer is an answer of an OAuth endpoint: status, headers and the
// decoded JSON body.
type oauthAnswer struct {
	Status int
	header http.Header
	Body   map[string]any
}

// TooMany tells a rate-limit refusal in the OAuth error format with a usable
// Retry-After.
func (a oauthAnswer) TooMany() bool {
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	return a.Status == http.StatusTooManyRequests && err == nil && secs >= 1 &&
		a.Body["error"] == "slow_down" && a.Body["error_description"] != "" && a.header.Get("Cache-Control") == "no-store"
}

// TokenAs posts form to the token endpoint from c, authenticating as
// clientID with secret: in the Basic header, in the form, or (secret "") with
// the client_id alone.
func (e *Deployment) TokenAs(c *http.Client, clientID, secret string, basic bool, form url.Values) oauthAnswer {
	e.T.Helper()
	a, err := e.TryToken(c, clientID, secret, basic, form)
	if err != nil {
		e.T.Fatal(err)
	}
	return a
}

// TryToken is tokenAs for a goroutine: it returns its failure.
func (e *Deployment) TryToken(c *http.Client, clientID, secret string, basic bool, form url.Values) (oauthAnswer, error) {
	form = maps.Clone(form)
	if !basic {
		form.Set("client_id", clientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.Base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		return oauthAnswer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return oauthAnswer{}, fmt.Errorf("token endpoint answered %d with non-JSON %q", resp.StatusCode, raw)
	}
	return oauthAnswer{resp.StatusCode, resp.Header, body}, nil
}

// Refresh asks the token endpoint for a refresh as app; scope "" asks for the
// granted scopes.
func (o *OauthEnv) Refresh(app OauthApp, basic bool, refreshToken, scope string) (int, TokenResponse) {
	o.T.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, _, tok := o.Token(app, basic, form)
	return status, tok
}

// GrantTokens runs the browser flow for scope and exchanges the code.
func (o *OauthEnv) GrantTokens(scope string) TokenResponse {
	o.T.Helper()
	q := AuthorizeQuery(o.App, "state-"+strings.ReplaceAll(scope, " ", "-"))
	q.Set("scope", scope)
	status, _, tok := o.Token(o.App, true, Exchange(o.Code(q)))
	if status != http.StatusOK || tok.RefreshToken == "" || tok.Scope != scope {
		o.T.Fatalf("code exchange for %q: %d %+v", scope, status, tok)
	}
	return tok
}

// Userinfo calls /oauth/userinfo with a bearer token.
func (o *OauthEnv) Userinfo(token string) (int, map[string]any) {
	o.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, o.Base+"/oauth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// AuthorizeFrom sends an authorization request from c: a GET with query, or
// a form POST of body when body is set.
func (e *Deployment) AuthorizeFrom(c *http.Client, query url.Values, body string) (int, http.Header, string) {
	e.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Base+"/oauth/authorize?"+query.Encode(), nil)
	if body != "" {
		req, _ = http.NewRequest(http.MethodPost, e.Base+"/oauth/authorize", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

func (e *Deployment) CountAuthRequests() int {
	e.T.Helper()
	var n int
	if err := e.BenchPool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_auth_requests`).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}
