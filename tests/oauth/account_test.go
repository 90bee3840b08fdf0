package oauth

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

var clientIDField = regexp.MustCompile(`name="client_id" value="([^"]*)"`)

func TestAccountPageListsAndDisconnectsOnlyTheUsersOwnGPTs(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	const bobEmail, bobPassword = "bob@example.com", "bob's long passphrase"
	o.CreateUser(bobEmail, bobPassword)
	recipes := o.CreateOAuthApp("Recipe GPT", harness.ChatGPTCallback)
	bobsOnly := o.CreateOAuthApp("Bob's Diary GPT", harness.ChatGPTCallback)

	alice, bob := harness.NewBrowser(o.Deployment), harness.NewBrowser(o.Deployment)
	aliceTravel := o.Connect(alice, o.App, harness.AliceEmail, harness.AlicePassword)
	aliceRecipes := o.Connect(alice, recipes, harness.AliceEmail, harness.AlicePassword)
	bobTravel := o.Connect(bob, o.App, bobEmail, bobPassword)
	bobDiary := o.Connect(bob, bobsOnly, bobEmail, bobPassword)

	// Alice's page: her two GPTs, never Bob's; the same protections as the
	// sign-in pages, and no script.
	code, hdr, page := alice.Get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT") || !strings.Contains(page, "Recipe GPT") ||
		strings.Contains(page, "Diary") || !strings.Contains(page, harness.AliceEmail) || !strings.Contains(page, "search and read") {
		t.Fatalf("alice's account page: %d %s", code, page)
	}
	if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		hdr.Get("Cache-Control") != "no-store" || strings.Contains(page, "<script") {
		t.Fatalf("account page headers %v", hdr)
	}
	csrf := harness.Fields(page)["csrf"]
	listed := map[string]bool{}
	for _, m := range clientIDField.FindAllStringSubmatch(page, -1) {
		listed[m[1]] = true
	}
	if len(listed) != 2 || !listed[o.App.AppID] || !listed[recipes.AppID] {
		t.Fatalf("alice's page offers to disconnect %v", listed)
	}

	// Without the CSRF token, or with another user's GPT (forged client_id),
	// nothing is disconnected.
	if code, _, page := alice.Post("/oauth/account", url.Values{"client_id": {o.App.AppID}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("disconnect without the CSRF token: %d %s", code, page)
	}
	if code, _, page := alice.Post("/oauth/account", url.Values{"client_id": {bobsOnly.AppID}, "csrf": {csrf}}); code != http.StatusNotFound || strings.Contains(page, "Diary") {
		t.Fatalf("disconnecting bob's GPT from alice's account: %d %s", code, page)
	}
	// A browser that is not signed in revokes nothing either.
	stranger := harness.NewBrowser(o.Deployment)
	_, _, strangerPage := stranger.Get("/oauth/account")
	if code, hdr, _ := stranger.Post("/oauth/account", url.Values{"client_id": {o.App.AppID}, "csrf": {harness.Fields(strangerPage)["csrf"]}}); code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("disconnect without a session: %d %q", code, hdr.Get("Location"))
	}
	if r, a := o.Works(o.App, &aliceTravel); !r || !a {
		t.Fatalf("alice's Travel GPT lost access before she disconnected it: refresh %v, access %v", r, a)
	}
	if r, a := o.Works(bobsOnly, &bobDiary); !r || !a {
		t.Fatalf("bob's GPT lost access to a forged disconnect: refresh %v, access %v", r, a)
	}

	// Alice disconnects the Travel GPT: its refresh and access tokens stop
	// working at once; her other GPT and Bob's use of the same GPT go on.
	code, _, page = alice.Post("/oauth/account", url.Values{"client_id": {o.App.AppID}, "csrf": {csrf}})
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT is disconnected") || strings.Contains(page, `value="`+o.App.AppID+`"`) {
		t.Fatalf("disconnect: %d %s", code, page)
	}
	if r, a := o.Works(o.App, &aliceTravel); r || a {
		t.Errorf("the disconnected GPT still works: refresh %v, access %v", r, a)
	}
	if r, a := o.Works(recipes, &aliceRecipes); !r || !a {
		t.Errorf("alice's other GPT lost access: refresh %v, access %v", r, a)
	}
	if r, a := o.Works(o.App, &bobTravel); !r || !a {
		t.Errorf("bob's connection to the same GPT was cut: refresh %v, access %v", r, a)
	}
}

// A browser that is not signed in gets the sign-in form, which leads back to
// the account page.
func TestAccountPageSignIn(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	o.Connect(harness.NewBrowser(o.Deployment), o.App, harness.AliceEmail, harness.AlicePassword)

	b := harness.NewBrowser(o.Deployment)
	code, _, page := b.Get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, "Sign in to see your connected GPTs") || !strings.Contains(page, `action="/oauth/login"`) {
		t.Fatalf("account page without a session: %d %s", code, page)
	}
	f := harness.Fields(page)
	if f["id"] != "" {
		t.Fatalf("account sign-in form carries an authorization request %q", f["id"])
	}
	if code, _, page := b.Post("/oauth/login", url.Values{"id": {""}, "csrf": {f["csrf"]}, "email": {harness.AliceEmail}, "password": {"wrong password!!"}}); code != http.StatusUnauthorized || !strings.Contains(page, "Sign in to see your connected GPTs") {
		t.Fatalf("wrong password: %d %s", code, page)
	}
	code, hdr, _ := b.Post("/oauth/login", url.Values{"id": {""}, "csrf": {f["csrf"]}, "email": {harness.AliceEmail}, "password": {harness.AlicePassword}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("sign-in for the account page: %d %q", code, hdr.Get("Location"))
	}
	if code, _, page := b.Get("/oauth/account"); code != http.StatusOK || !strings.Contains(page, "Travel GPT") {
		t.Fatalf("account page after sign-in: %d %s", code, page)
	}
}

// A user who signs in only through the upstream provider reaches the account
// page the same way.
func TestAccountPageSignInThroughUpstream(t *testing.T) {
	t.Parallel()
	u := newUpstreamEnv(t)
	u.Start("serve")
	u.op.SignInAs(oidctest.User{Subject: "upstream-erin", Email: "erin@example.com", EmailVerified: true})
	u.rememberAs(t, u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state"), "Erin prefers window seats")

	b := harness.NewBrowser(u.Deployment)
	code, _, page := b.Get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, `action="/oauth/upstream/start"`) {
		t.Fatalf("account sign-in without the upstream button: %d %s", code, page)
	}
	code, hdr, _ := b.Get("/oauth/upstream/start?id=")
	if code != http.StatusFound {
		t.Fatalf("start: %d", code)
	}
	code, hdr, _ = b.Get(hdr.Get("Location"))
	if code != http.StatusFound {
		t.Fatalf("provider: %d", code)
	}
	code, hdr, page = b.Get(hdr.Get("Location"))
	if code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("upstream callback: %d %q %s", code, hdr.Get("Location"), page)
	}
	if code, _, page := b.Get("/oauth/account"); code != http.StatusOK || !strings.Contains(page, "Travel GPT") || !strings.Contains(page, "erin@example.com") {
		t.Fatalf("account page after upstream sign-in: %d %s", code, page)
	}
}
