package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestLoginAndConsentPages(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_LOGIN_RATE": "3"})
	b := harness.NewBrowser(o.Deployment)
	_, hdr, _ := b.Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, "st-1").Encode())
	login := hdr.Get("Location")
	code, hdr, page := b.Get(login)
	if code != http.StatusOK || !strings.Contains(page, "Sign in to connect Travel GPT") {
		t.Fatalf("login page: %d %s", code, page)
	}
	if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		hdr.Get("Cache-Control") != "no-store" || strings.Contains(page, "<script") {
		t.Fatalf("login page headers %v", hdr)
	}
	f := harness.Fields(page)
	form := func(csrf, password string) url.Values {
		return url.Values{"id": {f["id"]}, "csrf": {csrf}, "email": {harness.AliceEmail}, "password": {password}}
	}

	if code, _, page := b.Post("/oauth/login", form("forged", harness.AlicePassword)); code != http.StatusForbidden || !strings.Contains(page, "expired") {
		t.Fatalf("login without the CSRF token: %d %s", code, page)
	}
	if code, _, page := b.Post("/oauth/login", form(f["csrf"], "wrong password!!")); code != http.StatusUnauthorized || !strings.Contains(page, "email or password is wrong") || !strings.Contains(page, harness.AliceEmail) {
		t.Fatalf("wrong password: %d %s", code, page)
	}
	// The sign-in budget (3 a minute per account here) is spent before any hashing.
	var limited bool
	for range 4 {
		code, hdr, _ := b.Post("/oauth/login", form(f["csrf"], "wrong password!!"))
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
	o := harness.NewOAuthEnv(t, nil)
	b := harness.NewBrowser(o.Deployment)
	// First connection: sign in and allow.
	if cb := b.Authorize(harness.AuthorizeQuery(o.App, "first"), harness.AliceEmail, harness.AlicePassword); cb.Query().Get("code") == "" {
		t.Fatalf("first connection: %s", cb)
	}
	// Second connection in the same browser: no sign-in page, straight to consent.
	_, hdr, _ := b.Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, "second").Encode())
	code, hdr, _ := b.Get(hdr.Get("Location"))
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/oauth/consent") {
		t.Fatalf("signed-in browser sent to %d %q", code, hdr.Get("Location"))
	}
	code, _, page := b.Get(hdr.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT wants to use your memory") ||
		!strings.Contains(page, "search and read") || !strings.Contains(page, harness.AliceEmail) {
		t.Fatalf("consent page: %d %s", code, page)
	}
	f := harness.Fields(page)
	code, hdr, _ = b.Post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"deny"}})
	loc, _ := url.Parse(hdr.Get("Location"))
	if code != http.StatusSeeOther || !strings.HasPrefix(loc.String(), harness.ChatGPTCallback) ||
		loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "second" || loc.Query().Get("code") != "" {
		t.Fatalf("denial: %d %s", code, loc)
	}
}

func TestTokenEndpointIsRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_TOKEN_RATE": "1"})
	var limited bool
	for range 5 {
		status, hdr, r := o.Token(o.App, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
		if status == http.StatusTooManyRequests {
			limited = r.Error == "slow_down" && hdr.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("the token endpoint was never rate limited")
	}
	// Another client has its own budget.
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	if status, _, r := o.Token(other, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}); status != http.StatusOK {
		t.Fatalf("another client: %d %+v", status, r)
	}
}
