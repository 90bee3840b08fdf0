package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginAndConsentPages(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, map[string]string{"CUSTOM_GPT_LOGIN_RATE": "3"})
	b := newBrowser(o.env)
	_, hdr, _ := b.get("/oauth/authorize?" + authorizeQuery(o.app, "st-1").Encode())
	login := hdr.Get("Location")
	code, hdr, page := b.get(login)
	if code != http.StatusOK || !strings.Contains(page, "Sign in to connect Travel GPT") {
		t.Fatalf("login page: %d %s", code, page)
	}
	if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		hdr.Get("Cache-Control") != "no-store" || strings.Contains(page, "<script") {
		t.Fatalf("login page headers %v", hdr)
	}
	f := fields(page)
	form := func(csrf, password string) url.Values {
		return url.Values{"id": {f["id"]}, "csrf": {csrf}, "email": {aliceEmail}, "password": {password}}
	}

	if code, _, page := b.post("/oauth/login", form("forged", alicePassword)); code != http.StatusForbidden || !strings.Contains(page, "expired") {
		t.Fatalf("login without the CSRF token: %d %s", code, page)
	}
	if code, _, page := b.post("/oauth/login", form(f["csrf"], "wrong password!!")); code != http.StatusUnauthorized || !strings.Contains(page, "email or password is wrong") || !strings.Contains(page, aliceEmail) {
		t.Fatalf("wrong password: %d %s", code, page)
	}
	// The sign-in budget (3 a minute per account here) is spent before any hashing.
	var limited bool
	for range 4 {
		code, hdr, _ := b.post("/oauth/login", form(f["csrf"], "wrong password!!"))
		if code == http.StatusTooManyRequests && hdr.Get("Retry-After") != "" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("repeated wrong passwords were never rate limited")
	}
}

func TestConsentDenialAndSessionReuse(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	b := newBrowser(o.env)
	// First connection: sign in and allow.
	if cb := b.authorize(authorizeQuery(o.app, "first"), aliceEmail, alicePassword); cb.Query().Get("code") == "" {
		t.Fatalf("first connection: %s", cb)
	}
	// Second connection in the same browser: no sign-in page, straight to consent.
	_, hdr, _ := b.get("/oauth/authorize?" + authorizeQuery(o.app, "second").Encode())
	code, hdr, _ := b.get(hdr.Get("Location"))
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/oauth/consent") {
		t.Fatalf("signed-in browser sent to %d %q", code, hdr.Get("Location"))
	}
	code, _, page := b.get(hdr.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT wants to use your memory") ||
		!strings.Contains(page, "search and read") || !strings.Contains(page, aliceEmail) {
		t.Fatalf("consent page: %d %s", code, page)
	}
	f := fields(page)
	code, hdr, _ = b.post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"deny"}})
	loc, _ := url.Parse(hdr.Get("Location"))
	if code != http.StatusSeeOther || !strings.HasPrefix(loc.String(), chatGPTCallback) ||
		loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "second" || loc.Query().Get("code") != "" {
		t.Fatalf("denial: %d %s", code, loc)
	}
}

func TestTokenEndpointIsRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, map[string]string{"CUSTOM_GPT_TOKEN_RATE": "1"})
	var limited bool
	for range 5 {
		status, hdr, r := o.token(o.app, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
		if status == http.StatusTooManyRequests {
			limited = r.Error == "slow_down" && hdr.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("the token endpoint was never rate limited")
	}
	// Another client has its own budget.
	other := o.createOAuthApp("Other GPT", chatGPTCallback)
	if status, _, r := o.token(other, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}); status != http.StatusOK {
		t.Fatalf("another client: %d %+v", status, r)
	}
}
