package harness

import (
	"context"
	"encoding/json"
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

const ChatGPTCallback = "https://chatgpt.com/aip/g-test/oauth/callback"

// OauthApp is an application registered as an OAuth client, with one end user.
type OauthApp struct {
	AppCreds
	ClientSecret string `json:"client_secret"`
}

func (e *Deployment) CreateOAuthApp(name string, redirectURIs ...string) OauthApp {
	e.T.Helper()
	args := []string{"apps", "create", "--name", name}
	for _, u := range redirectURIs {
		args = append(args, "--redirect-uri", u)
	}
	out, err := e.RunCLI(args...)
	if err != nil {
		e.T.Fatal(err)
	}
	var a OauthApp
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ClientSecret == "" {
		e.T.Fatalf("apps create printed %q", out)
	}
	return a
}

func (e *Deployment) CreateUser(email, password string) string {
	e.T.Helper()
	var out strings.Builder
	err := cli.Run(context.Background(), []string{"users", "create", "--email", email},
		cli.Env{Getenv: e.Getenv, Stdin: strings.NewReader(password + "\n"), Stdout: &out, Stderr: io.Discard}, service.CLI)
	if err != nil {
		e.T.Fatalf("users create: %v", err)
	}
	var u struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(out.String()), &u); err != nil || u.UserID == "" {
		e.T.Fatalf("users create printed %q", out.String())
	}
	return u.UserID
}

// Browser is a user agent that keeps cookies and does not follow redirects,
// so the test sees every hop of the flow.
type Browser struct {
	T         testing.TB
	Base      string
	C         *http.Client
	OnConsent func(page string)
}

func NewBrowser(e *Deployment) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: e.T, Base: e.Base, C: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *Browser) do(req *http.Request) (int, http.Header, string) {
	b.T.Helper()
	resp, err := b.C.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (b *Browser) Get(path string) (int, http.Header, string) {
	b.T.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.Base + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.do(req)
}

func (b *Browser) Post(path string, form url.Values) (int, http.Header, string) {
	b.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenField = regexp.MustCompile(`name="(id|csrf)" value="([^"]*)"`)

func Fields(html string) map[string]string {
	out := map[string]string{}
	for _, m := range hiddenField.FindAllStringSubmatch(html, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// Authorize runs the browser part of the flow — authorize, sign in, consent —
// and returns the redirect to the client's callback.
func (b *Browser) Authorize(query url.Values, email, password string) *url.URL {
	b.T.Helper()
	return b.Follow(b.Base+"/oauth/authorize?"+query.Encode(), query.Get("redirect_uri"), email, password)
}

// Follow runs the browser part of the flow from an authorization URL, as a
// client built it, until the redirect to redirectURI, which it returns.
// OnConsent, when set, sees each consent page before it is allowed.
func (b *Browser) Follow(authURL, redirectURI, email, password string) *url.URL {
	b.T.Helper()
	code, hdr, body := b.Get(authURL)
	if code != http.StatusFound && code != http.StatusSeeOther {
		b.T.Fatalf("authorize: %d %s", code, body)
	}
	loc := hdr.Get("Location")
	for !strings.HasPrefix(loc, ChatGPTCallback) && !strings.HasPrefix(loc, redirectURI+"?") {
		code, hdr, body = b.Get(loc)
		switch {
		case code == http.StatusOK && strings.Contains(body, `action="/oauth/login"`):
			f := Fields(body)
			code, hdr, body = b.Post("/oauth/login", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "email": {email}, "password": {password}})
		case code == http.StatusOK && strings.Contains(body, `action="/oauth/consent"`):
			if b.OnConsent != nil {
				b.OnConsent(body)
			}
			f := Fields(body)
			code, hdr, body = b.Post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"allow"}})
		}
		if code < 300 || code > 399 {
			b.T.Fatalf("flow stopped at %s: %d %s", loc, code, body)
		}
		loc = hdr.Get("Location")
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.T.Fatal(err)
	}
	return u
}

type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// Token calls the token endpoint with client_secret_basic or client_secret_post.
func (e *Deployment) Token(app OauthApp, basic bool, form url.Values) (int, http.Header, TokenResponse) {
	e.T.Helper()
	if !basic {
		form.Set("client_id", app.AppID)
		form.Set("client_secret", app.ClientSecret)
	}
	req, _ := http.NewRequest(http.MethodPost, e.Base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(app.AppID, app.ClientSecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	var tr TokenResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &tr); err != nil {
		e.T.Fatalf("token endpoint answered %d %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, tr
}

func AuthorizeQuery(app OauthApp, state string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {app.AppID}, "redirect_uri": {ChatGPTCallback},
		"scope": {"memories:read memories:write"}, "state": {state}}
}
