package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

const upstreamButton = "Sign in with Acme SSO"

// upstreamEnv is a deployment whose login page offers sign-in through a fake
// OpenID provider running in the test.
type upstreamEnv struct {
	*harness.Deployment
	op  *oidctest.Provider
	app harness.OauthApp
	db  *pgxpool.Pool
}

func newUpstreamEnv(t *testing.T) *upstreamEnv {
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	op := oidctest.NewProvider(t, oidctest.Config{ClientID: "custom-gpt-memory", ClientSecret: "upstream-secret-0123456789",
		RedirectURI: e.Base + "/oauth/upstream/callback"})
	e.Vars["CUSTOM_GPT_UPSTREAM_OIDC_ISSUER"] = op.Issuer()
	e.Vars["CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID"] = "custom-gpt-memory"
	e.Vars["CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET"] = "upstream-secret-0123456789"
	e.Vars["CUSTOM_GPT_UPSTREAM_OIDC_NAME"] = "Acme SSO"
	u := &upstreamEnv{Deployment: e, op: op, app: e.CreateOAuthApp("Travel GPT", harness.ChatGPTCallback)}
	u.db = e.Pool()
	return u
}

var upstreamStartForm = regexp.MustCompile(`<form method="get" action="/oauth/upstream/start">\s*<input type="hidden" name="id" value="([^"]+)">`)

// toUpstreamCallback runs authorize → login page → "Sign in with …" → the
// provider, and returns the provider's redirect back to the service without
// following it.
func (u *upstreamEnv) toUpstreamCallback(b *harness.Browser, state string) *url.URL {
	b.T.Helper()
	code, hdr, body := b.Get("/oauth/authorize?" + harness.AuthorizeQuery(u.app, state).Encode())
	if code != http.StatusFound && code != http.StatusSeeOther {
		b.T.Fatalf("authorize: %d %s", code, body)
	}
	code, _, body = b.Get(hdr.Get("Location"))
	m := upstreamStartForm.FindStringSubmatch(body)
	if code != http.StatusOK || !strings.Contains(body, upstreamButton) || !strings.Contains(body, `action="/oauth/login"`) || m == nil {
		b.T.Fatalf("login page without the upstream button next to the password form: %d %s", code, body)
	}
	if strings.Contains(body, "<script") {
		b.T.Fatal("login page uses JavaScript")
	}
	code, hdr, body = b.Get("/oauth/upstream/start?id=" + url.QueryEscape(m[1]))
	toOP, err := url.Parse(hdr.Get("Location"))
	if code != http.StatusFound || err != nil || !strings.HasPrefix(toOP.String(), u.op.Issuer()+"/authorize?") {
		b.T.Fatalf("start: %d %s %s", code, hdr.Get("Location"), body)
	}
	q := toOP.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("nonce")) < 32 ||
		!strings.HasSuffix(q.Get("state"), "."+m[1]) || q.Get("redirect_uri") != u.Base+"/oauth/upstream/callback" {
		b.T.Fatalf("authorization request to the provider lacks PKCE, nonce or state: %v", q)
	}
	code, hdr, body = b.Get(toOP.String())
	back, err := url.Parse(hdr.Get("Location"))
	if code != http.StatusFound || err != nil || !strings.HasPrefix(back.String(), u.Base+"/oauth/upstream/callback?") {
		b.T.Fatalf("provider: %d %s %s", code, hdr.Get("Location"), body)
	}
	return back
}

// signInThroughUpstream runs the whole browser flow and returns the code the
// GPT receives.
func (u *upstreamEnv) signInThroughUpstream(b *harness.Browser, state string) string {
	b.T.Helper()
	code, hdr, body := b.Get(u.toUpstreamCallback(b, state).String())
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/oauth/consent?id=") {
		b.T.Fatalf("callback: %d %s %s", code, hdr.Get("Location"), body)
	}
	code, _, body = b.Get(hdr.Get("Location"))
	if code != http.StatusOK || !strings.Contains(body, `action="/oauth/consent"`) {
		b.T.Fatalf("consent page: %d %s", code, body)
	}
	f := harness.Fields(body)
	code, hdr, body = b.Post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"allow"}})
	for code == http.StatusFound || code == http.StatusSeeOther {
		if loc := hdr.Get("Location"); strings.HasPrefix(loc, harness.ChatGPTCallback+"?") {
			cb, _ := url.Parse(loc)
			if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
				b.T.Fatalf("callback to the GPT: %s", cb)
			}
			return cb.Query().Get("code")
		}
		code, hdr, body = b.Get(hdr.Get("Location"))
	}
	b.T.Fatalf("flow stopped after consent: %d %s", code, body)
	return ""
}

// rememberAs exchanges the code and stores a memory with the access token;
// it returns the Memory Bank user_id the memory was stored under.
func (u *upstreamEnv) rememberAs(t *testing.T, gptCode, content string) string {
	t.Helper()
	status, _, tok := u.Token(u.app, true, url.Values{"grant_type": {"authorization_code"}, "code": {gptCode}, "redirect_uri": {harness.ChatGPTCallback}})
	if status != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("code exchange: %d %+v", status, tok)
	}
	status, _, body := u.Call("POST", "/api/v1/memories", tok.AccessToken, map[string]any{"content": content})
	if status != http.StatusAccepted {
		t.Fatalf("create memory: %d %v", status, body)
	}
	opID := body["operation_id"].(string)
	u.Eventually("the operation succeeds", func() bool { return u.OperationStatus(tok.AccessToken, opID) == "succeeded" })
	for _, m := range u.Bank.Memories() {
		if m.Metadata["operation_id"] == opID {
			if m.AgentID != "custom_gpt:"+u.app.AppID {
				t.Fatalf("memory stored for agent %q", m.AgentID)
			}
			return m.UserID
		}
	}
	t.Fatalf("memory of operation %s not found", opID)
	return ""
}

// localUser returns the id and whether a password is set of the user linked
// to an upstream subject, or "" when there is none.
func (u *upstreamEnv) localUser(t *testing.T, subject string) (id string, hasPassword bool) {
	t.Helper()
	err := u.db.QueryRow(context.Background(), `SELECT id, password_hash IS NOT NULL FROM custom_gpt_users WHERE upstream_sub = $1`,
		u.op.Issuer()+"|"+subject).Scan(&id, &hasPassword)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return id, hasPassword
}

func (u *upstreamEnv) userCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := u.db.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantRefused checks an error page that signed nobody in.
func wantRefused(t *testing.T, b *harness.Browser, status int, hdr http.Header, body string, wantStatus int, wantText string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, wantText) {
		t.Fatalf("got %d %s, want %d with %q", status, body, wantStatus, wantText)
	}
	if hdr.Get("X-Frame-Options") != "DENY" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("error page headers %v", hdr)
	}
	for _, c := range b.C.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(b.Base, "http://"), Path: "/"}) {
		if c.Name == "cgpt_session" {
			t.Fatalf("a session was started: %v", c)
		}
	}
}

// TestUpstreamSignIn: authorize → login page → "Sign in with Acme SSO" →
// provider → callback → consent → code → token → a memory in the upstream
// user's own space; the next sign-in reuses that user; everything the
// callback cannot trust, and an email that belongs to a local account, is
// refused with an error page.
func TestUpstreamSignIn(t *testing.T) {
	t.Parallel()
	u := newUpstreamEnv(t)
	u.CreateUser("grace@example.com", "correct horse battery staple")
	u.Start("serve")
	erin := oidctest.User{Subject: "upstream-erin", Email: "erin@example.com", EmailVerified: true}

	t.Run("first sign-in creates the user", func(t *testing.T) {
		u.op.SignInAs(erin)
		gptCode := u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-first")
		memoryUser := u.rememberAs(t, gptCode, "Erin prefers window seats")
		id, hasPassword := u.localUser(t, erin.Subject)
		if id == "" || hasPassword {
			t.Fatalf("upstream user %q, password set %v", id, hasPassword)
		}
		if memoryUser != u.app.AppID+":"+id {
			t.Fatalf("memory stored for user %q, want %q", memoryUser, u.app.AppID+":"+id)
		}
		var email string
		if err := u.db.QueryRow(context.Background(), `SELECT email FROM custom_gpt_users WHERE id = $1`, id).Scan(&email); err != nil || email != "erin@example.com" {
			t.Fatalf("email %q %v", email, err)
		}
	})

	t.Run("second sign-in reuses the user", func(t *testing.T) {
		u.op.SignInAs(erin)
		before := u.userCount(t)
		gptCode := u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-second")
		id, _ := u.localUser(t, erin.Subject)
		if got := u.rememberAs(t, gptCode, "Erin flies from Lisbon"); got != u.app.AppID+":"+id {
			t.Fatalf("second sign-in stored for %q, want %q", got, u.app.AppID+":"+id)
		}
		if after := u.userCount(t); after != before {
			t.Fatalf("users %d → %d: a second account was created", before, after)
		}
	})

	t.Run("email only in userinfo", func(t *testing.T) {
		u.op.SignInAs(oidctest.User{Subject: "upstream-frank", Email: "frank@example.com", EmailVerified: true, EmailOnlyInUserinfo: true})
		u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-frank")
		if id, _ := u.localUser(t, "upstream-frank"); id == "" {
			t.Fatal("no user created from userinfo's email")
		}
	})

	// Each case reaches the callback legitimately, then breaks one thing.
	refusals := []struct {
		name   string
		before func()
		change func(cb *url.URL) (*url.URL, *harness.Browser)
	}{
		{"tampered state", nil, func(cb *url.URL) (*url.URL, *harness.Browser) {
			q := cb.Query()
			state := []byte(q.Get("state"))
			state[0] ^= 1 // another base64url character
			q.Set("state", string(state))
			cb.RawQuery = q.Encode()
			return cb, nil
		}},
		{"state naming another authorization request", nil, func(cb *url.URL) (*url.URL, *harness.Browser) {
			q := cb.Query()
			random, _, _ := strings.Cut(q.Get("state"), ".")
			q.Set("state", random+".01900000-0000-7000-8000-000000000000")
			cb.RawQuery = q.Encode()
			return cb, nil
		}},
		{"absent state", nil, func(cb *url.URL) (*url.URL, *harness.Browser) {
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			return cb, nil
		}},
		{"callback in another browser", nil, func(cb *url.URL) (*url.URL, *harness.Browser) { return cb, harness.NewBrowser(u.Deployment) }},
		{"ID token for another audience", func() { u.op.Tamper(func(c map[string]any) { c["aud"], c["azp"] = "someone-else", "someone-else" }) }, nil},
		{"ID token from another issuer", func() { u.op.Tamper(func(c map[string]any) { c["iss"] = "https://evil.example.com" }) }, nil},
		{"ID token with another nonce", func() { u.op.Tamper(func(c map[string]any) { c["nonce"] = "replayed" }) }, nil},
		{"ID token without a nonce", func() { u.op.Tamper(func(c map[string]any) { delete(c, "nonce") }) }, nil},
		{"ID token signed by another key", func() { u.op.SignWithForeignKey(true) }, nil},
		{"expired ID token", func() { u.op.Tamper(func(c map[string]any) { c["exp"] = c["iat"].(int64) - 60 }) }, nil},
	}
	for _, tt := range refusals {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			u.op.SignInAs(oidctest.User{Subject: "upstream-mallory", Email: "mallory@example.com", EmailVerified: true})
			t.Cleanup(func() { u.op.Tamper(nil); u.op.SignWithForeignKey(false) })
			if tt.before != nil {
				tt.before()
			}
			b := harness.NewBrowser(u.Deployment)
			cb, other := u.toUpstreamCallback(b, "state-refused"), (*harness.Browser)(nil)
			if tt.change != nil {
				cb, other = tt.change(cb)
			}
			if other != nil {
				b = other
			}
			status, hdr, body := b.Get(cb.String())
			wantRefused(t, b, status, hdr, body, http.StatusBadRequest, "could not be verified")
			if id, _ := u.localUser(t, "upstream-mallory"); id != "" {
				t.Fatal("a user was created from a refused callback")
			}
		})
	}

	t.Run("refused: email of a local password account", func(t *testing.T) {
		u.op.SignInAs(oidctest.User{Subject: "upstream-grace", Email: "Grace@Example.com", EmailVerified: true})
		b := harness.NewBrowser(u.Deployment)
		status, hdr, body := b.Get(u.toUpstreamCallback(b, "state-grace").String())
		wantRefused(t, b, status, hdr, body, http.StatusConflict, "already exists here and is not linked to Acme SSO")
		if !strings.Contains(body, `href="/oauth/login?id=`) {
			t.Fatalf("no way back to the password form: %s", body)
		}
		if id, _ := u.localUser(t, "upstream-grace"); id != "" {
			t.Fatal("the upstream account was linked or created")
		}
		var sub *string
		if err := u.db.QueryRow(context.Background(), `SELECT upstream_sub FROM custom_gpt_users WHERE email = 'grace@example.com'`).Scan(&sub); err != nil || sub != nil {
			t.Fatalf("local account's upstream_sub %v %v", sub, err)
		}
	})

	t.Run("refused: unverified email", func(t *testing.T) {
		u.op.SignInAs(oidctest.User{Subject: "upstream-ivan", Email: "ivan@example.com"})
		b := harness.NewBrowser(u.Deployment)
		status, hdr, body := b.Get(u.toUpstreamCallback(b, "state-ivan").String())
		wantRefused(t, b, status, hdr, body, http.StatusBadRequest, "has not verified your email address")
	})

	t.Run("refused: cancelled at the provider", func(t *testing.T) {
		u.op.Deny("access_denied")
		t.Cleanup(func() { u.op.Deny("") })
		b := harness.NewBrowser(u.Deployment)
		status, hdr, body := b.Get(u.toUpstreamCallback(b, "state-deny").String())
		wantRefused(t, b, status, hdr, body, http.StatusBadRequest, "was cancelled")
	})

	t.Run("refused: disabled user", func(t *testing.T) {
		id, _ := u.localUser(t, erin.Subject)
		if _, err := u.RunCLI("users", "disable", id); err != nil {
			t.Fatal(err)
		}
		u.op.SignInAs(erin)
		b := harness.NewBrowser(u.Deployment)
		status, hdr, body := b.Get(u.toUpstreamCallback(b, "state-disabled").String())
		wantRefused(t, b, status, hdr, body, http.StatusForbidden, "disabled")
	})

	t.Run("start with an unknown authorization request", func(t *testing.T) {
		before := len(u.op.AuthorizeRequests())
		status, _, body := harness.NewBrowser(u.Deployment).Get("/oauth/upstream/start?id=01900000-0000-7000-8000-000000000000")
		if status != http.StatusBadRequest || !strings.Contains(body, "expired") || len(u.op.AuthorizeRequests()) != before {
			t.Fatalf("%d %s", status, body)
		}
	})
}

// Without the upstream variables there is no button and no upstream route.
func TestUpstreamSignInIsOffByDefault(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateOAuthApp("Travel GPT", harness.ChatGPTCallback)
	e.Start("serve")
	b := harness.NewBrowser(e)
	_, hdr, _ := b.Get("/oauth/authorize?" + harness.AuthorizeQuery(app, "s").Encode())
	status, _, body := b.Get(hdr.Get("Location"))
	if status != http.StatusOK || strings.Contains(body, "upstream") || strings.Contains(body, "Sign in with") {
		t.Fatalf("login page: %d %s", status, body)
	}
	if status, _, _ := b.Get("/oauth/upstream/start?id=" + url.QueryEscape(harness.Fields(body)["id"])); status != http.StatusNotFound {
		t.Fatalf("upstream start answered %d", status)
	}
}

// A partial upstream configuration stops the binary, naming what is missing.
func TestUpstreamPartialConfigurationStopsServe(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER":        "https://login.example.com",
		"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID":     "memory",
		"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": "secret",
	}
	for missing := range full {
		vars := map[string]string{}
		for k, v := range full {
			if k != missing {
				vars[k] = v
			}
		}
		_, err := harness.RunCLIWithOnly(vars, "serve")
		if err == nil || !strings.Contains(err.Error(), missing+": is required") {
			t.Errorf("without %s: serve returned %v", missing, err)
		}
	}
	_, err := harness.RunCLIWithOnly(map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": "http://login.example.com",
		"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID": "memory", "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": "secret"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "CUSTOM_GPT_UPSTREAM_OIDC_ISSUER: must use https") {
		t.Errorf("http issuer: serve returned %v", err)
	}
}
