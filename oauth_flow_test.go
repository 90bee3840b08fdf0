package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/cli"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

const chatGPTCallback = "https://chatgpt.com/aip/g-test/oauth/callback"

// oauthApp is an application registered as an OAuth client, with one end user.
type oauthApp struct {
	appCreds
	ClientSecret string `json:"client_secret"`
}

func (e *env) createOAuthApp(name string, redirectURIs ...string) oauthApp {
	e.t.Helper()
	args := []string{"apps", "create", "--name", name}
	for _, u := range redirectURIs {
		args = append(args, "--redirect-uri", u)
	}
	out, err := e.cli(args...)
	if err != nil {
		e.t.Fatal(err)
	}
	var a oauthApp
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ClientSecret == "" {
		e.t.Fatalf("apps create printed %q", out)
	}
	return a
}

func (e *env) createUser(email, password string) string {
	e.t.Helper()
	var out strings.Builder
	err := cli.Run(t0ctx(), []string{"users", "create", "--email", email},
		cli.Env{Getenv: e.getenv, Stdin: strings.NewReader(password + "\n"), Stdout: &out, Stderr: io.Discard}, service.CLI)
	if err != nil {
		e.t.Fatalf("users create: %v", err)
	}
	var u struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(out.String()), &u); err != nil || u.UserID == "" {
		e.t.Fatalf("users create printed %q", out.String())
	}
	return u.UserID
}

// browser is a user agent that keeps cookies and does not follow redirects,
// so the test sees every hop of the flow.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(e *env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, http.Header, string) {
	b.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.base + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenField = regexp.MustCompile(`name="(id|csrf)" value="([^"]*)"`)

func fields(html string) map[string]string {
	out := map[string]string{}
	for _, m := range hiddenField.FindAllStringSubmatch(html, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// authorize runs the browser part of the flow — authorize, sign in, consent —
// and returns the redirect to the client's callback.
func (b *browser) authorize(query url.Values, email, password string) *url.URL {
	b.t.Helper()
	code, hdr, body := b.get("/oauth/authorize?" + query.Encode())
	if code != http.StatusFound && code != http.StatusSeeOther {
		b.t.Fatalf("authorize: %d %s", code, body)
	}
	loc := hdr.Get("Location")
	for !strings.HasPrefix(loc, chatGPTCallback) && !strings.HasPrefix(loc, query.Get("redirect_uri")+"?") {
		code, hdr, body = b.get(loc)
		switch {
		case code == http.StatusOK && strings.Contains(body, `action="/oauth/login"`):
			f := fields(body)
			code, hdr, body = b.post("/oauth/login", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "email": {email}, "password": {password}})
		case code == http.StatusOK && strings.Contains(body, `action="/oauth/consent"`):
			f := fields(body)
			code, hdr, body = b.post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"allow"}})
		}
		if code < 300 || code > 399 {
			b.t.Fatalf("flow stopped at %s: %d %s", loc, code, body)
		}
		loc = hdr.Get("Location")
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// token calls the token endpoint with client_secret_basic or client_secret_post.
func (e *env) token(app oauthApp, basic bool, form url.Values) (int, http.Header, tokenResponse) {
	e.t.Helper()
	if !basic {
		form.Set("client_id", app.AppID)
		form.Set("client_secret", app.ClientSecret)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(app.AppID, app.ClientSecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &tr); err != nil {
		e.t.Fatalf("token endpoint answered %d %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, tr
}

func authorizeQuery(app oauthApp, state string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {app.AppID}, "redirect_uri": {chatGPTCallback},
		"scope": {"memories:read memories:write"}, "state": {state}}
}

// TestOAuthFlowAsChatGPTRunsIt: authorize → sign in → consent → code at the
// redirect URI → token exchange (both methods) → API calls as the end user →
// refresh → reuse detection.
func TestOAuthFlowAsChatGPTRunsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.createOAuthApp("Travel GPT", chatGPTCallback, "https://chat.openai.com/aip/g-test/oauth/callback")
	userID := e.createUser("alice@example.com", "correct horse battery staple")
	e.start("serve")

	for _, basic := range []bool{true, false} {
		t.Run(fmt.Sprintf("basic=%v", basic), func(t *testing.T) {
			b := newBrowser(e)
			state := fmt.Sprintf("state-%v-%d", basic, len(app.AppID))
			cb := b.authorize(authorizeQuery(app, state), "alice@example.com", "correct horse battery staple")
			if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
				t.Fatalf("callback %s", cb)
			}
			code, hdr, tok := e.token(app, basic, url.Values{"grant_type": {"authorization_code"},
				"code": {cb.Query().Get("code")}, "redirect_uri": {chatGPTCallback}})
			if code != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
				t.Fatalf("code exchange: %d %+v", code, tok)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("token answer Cache-Control %q", hdr.Get("Cache-Control"))
			}

			// The token reaches the end user's own memory space.
			code, _, body := e.call("POST", "/api/v1/memories", tok.AccessToken, map[string]any{"content": "Alice likes aisle seats " + state})
			if code != http.StatusAccepted {
				t.Fatalf("create with token: %d %v", code, body)
			}
			opID := body["operation_id"].(string)
			e.eventually("the operation succeeds", func() bool { return e.operationStatus(tok.AccessToken, opID) == "succeeded" })
			found := false
			for _, m := range e.bank.Memories() {
				if m.Metadata["operation_id"] == opID {
					found = m.UserID == app.AppID+":"+userID && m.AgentID == "custom_gpt:"+app.AppID
				}
			}
			if !found {
				t.Fatalf("memory not stored in the end user's scope: %+v", e.bank.Memories())
			}

			// Refresh rotates; the spent refresh token revokes the family.
			code, _, fresh := e.token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if code != http.StatusOK || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh: %d %+v", code, fresh)
			}
			if code, _, _ := e.call("POST", "/api/v1/search", fresh.AccessToken, map[string]any{"query": "aisle seats"}); code != http.StatusOK {
				t.Fatalf("refreshed token: %d", code)
			}
			code, _, reuse := e.token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if code != http.StatusBadRequest || reuse.Error != "invalid_grant" {
				t.Fatalf("reuse of a rotated refresh token: %d %+v", code, reuse)
			}
			code, _, after := e.token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken}})
			if code != http.StatusBadRequest || after.Error != "invalid_grant" {
				t.Fatalf("the family survived reuse: %d %+v", code, after)
			}
			code, hdr, _ = e.call("POST", "/api/v1/search", fresh.AccessToken, map[string]any{"query": "aisle seats"})
			if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("access token of a revoked family: %d %q", code, hdr.Get("WWW-Authenticate"))
			}
		})
	}
}
