package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
)

var clientIDField = regexp.MustCompile(`name="client_id" value="([^"]*)"`)

// connect runs the whole flow for app in b and returns the token pair.
func (o *oauthEnv) connect(b *browser, app oauthApp, email, password string) tokenResponse {
	o.t.Helper()
	cb := b.authorize(authorizeQuery(app, "s"), email, password)
	status, _, tok := o.token(app, true, exchange(cb.Query().Get("code")))
	if status != http.StatusOK {
		o.t.Fatalf("connect %s for %s: %d %+v", app.AppID, email, status, tok)
	}
	return tok
}

// works tells whether a GPT's tokens still work: its refresh token is
// refused or rotated, and its access token reaches the API or not. A refresh
// that works gives back the new pair.
func (o *oauthEnv) works(app oauthApp, tok *tokenResponse) (refresh, access bool) {
	o.t.Helper()
	code, _, _ := o.call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"})
	status, _, fresh := o.token(app, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if status == http.StatusOK {
		*tok = fresh
	}
	return status == http.StatusOK, code == http.StatusOK
}

func TestAccountPageListsAndDisconnectsOnlyTheUsersOwnGPTs(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	const bobEmail, bobPassword = "bob@example.com", "bob's long passphrase"
	o.createUser(bobEmail, bobPassword)
	recipes := o.createOAuthApp("Recipe GPT", chatGPTCallback)
	bobsOnly := o.createOAuthApp("Bob's Diary GPT", chatGPTCallback)

	alice, bob := newBrowser(o.env), newBrowser(o.env)
	aliceTravel := o.connect(alice, o.app, aliceEmail, alicePassword)
	aliceRecipes := o.connect(alice, recipes, aliceEmail, alicePassword)
	bobTravel := o.connect(bob, o.app, bobEmail, bobPassword)
	bobDiary := o.connect(bob, bobsOnly, bobEmail, bobPassword)

	// Alice's page: her two GPTs, never Bob's; the same protections as the
	// sign-in pages, and no script.
	code, hdr, page := alice.get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT") || !strings.Contains(page, "Recipe GPT") ||
		strings.Contains(page, "Diary") || !strings.Contains(page, aliceEmail) || !strings.Contains(page, "search and read") {
		t.Fatalf("alice's account page: %d %s", code, page)
	}
	if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		hdr.Get("Cache-Control") != "no-store" || strings.Contains(page, "<script") {
		t.Fatalf("account page headers %v", hdr)
	}
	csrf := fields(page)["csrf"]
	listed := map[string]bool{}
	for _, m := range clientIDField.FindAllStringSubmatch(page, -1) {
		listed[m[1]] = true
	}
	if len(listed) != 2 || !listed[o.app.AppID] || !listed[recipes.AppID] {
		t.Fatalf("alice's page offers to disconnect %v", listed)
	}

	// Without the CSRF token, or with another user's GPT (forged client_id),
	// nothing is disconnected.
	if code, _, page := alice.post("/oauth/account", url.Values{"client_id": {o.app.AppID}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("disconnect without the CSRF token: %d %s", code, page)
	}
	if code, _, page := alice.post("/oauth/account", url.Values{"client_id": {bobsOnly.AppID}, "csrf": {csrf}}); code != http.StatusNotFound || strings.Contains(page, "Diary") {
		t.Fatalf("disconnecting bob's GPT from alice's account: %d %s", code, page)
	}
	// A browser that is not signed in revokes nothing either.
	stranger := newBrowser(o.env)
	_, _, strangerPage := stranger.get("/oauth/account")
	if code, hdr, _ := stranger.post("/oauth/account", url.Values{"client_id": {o.app.AppID}, "csrf": {fields(strangerPage)["csrf"]}}); code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("disconnect without a session: %d %q", code, hdr.Get("Location"))
	}
	if r, a := o.works(o.app, &aliceTravel); !r || !a {
		t.Fatalf("alice's Travel GPT lost access before she disconnected it: refresh %v, access %v", r, a)
	}
	if r, a := o.works(bobsOnly, &bobDiary); !r || !a {
		t.Fatalf("bob's GPT lost access to a forged disconnect: refresh %v, access %v", r, a)
	}

	// Alice disconnects the Travel GPT: its refresh and access tokens stop
	// working at once; her other GPT and Bob's use of the same GPT go on.
	code, _, page = alice.post("/oauth/account", url.Values{"client_id": {o.app.AppID}, "csrf": {csrf}})
	if code != http.StatusOK || !strings.Contains(page, "Travel GPT is disconnected") || strings.Contains(page, `value="`+o.app.AppID+`"`) {
		t.Fatalf("disconnect: %d %s", code, page)
	}
	if r, a := o.works(o.app, &aliceTravel); r || a {
		t.Errorf("the disconnected GPT still works: refresh %v, access %v", r, a)
	}
	if r, a := o.works(recipes, &aliceRecipes); !r || !a {
		t.Errorf("alice's other GPT lost access: refresh %v, access %v", r, a)
	}
	if r, a := o.works(o.app, &bobTravel); !r || !a {
		t.Errorf("bob's connection to the same GPT was cut: refresh %v, access %v", r, a)
	}
}

// A browser that is not signed in gets the sign-in form, which leads back to
// the account page.
func TestAccountPageSignIn(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	o.connect(newBrowser(o.env), o.app, aliceEmail, alicePassword)

	b := newBrowser(o.env)
	code, _, page := b.get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, "Sign in to see your connected GPTs") || !strings.Contains(page, `action="/oauth/login"`) {
		t.Fatalf("account page without a session: %d %s", code, page)
	}
	f := fields(page)
	if f["id"] != "" {
		t.Fatalf("account sign-in form carries an authorization request %q", f["id"])
	}
	if code, _, page := b.post("/oauth/login", url.Values{"id": {""}, "csrf": {f["csrf"]}, "email": {aliceEmail}, "password": {"wrong password!!"}}); code != http.StatusUnauthorized || !strings.Contains(page, "Sign in to see your connected GPTs") {
		t.Fatalf("wrong password: %d %s", code, page)
	}
	code, hdr, _ := b.post("/oauth/login", url.Values{"id": {""}, "csrf": {f["csrf"]}, "email": {aliceEmail}, "password": {alicePassword}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("sign-in for the account page: %d %q", code, hdr.Get("Location"))
	}
	if code, _, page := b.get("/oauth/account"); code != http.StatusOK || !strings.Contains(page, "Travel GPT") {
		t.Fatalf("account page after sign-in: %d %s", code, page)
	}
}

// A user who signs in only through the upstream provider reaches the account
// page the same way.
func TestAccountPageSignInThroughUpstream(t *testing.T) {
	t.Parallel()
	u := newUpstreamEnv(t)
	u.start("serve")
	u.op.SignInAs(oidctest.User{Subject: "upstream-erin", Email: "erin@example.com", EmailVerified: true})
	u.rememberAs(t, u.signInThroughUpstream(newBrowser(u.env), "state"), "Erin prefers window seats")

	b := newBrowser(u.env)
	code, _, page := b.get("/oauth/account")
	if code != http.StatusOK || !strings.Contains(page, `action="/oauth/upstream/start"`) {
		t.Fatalf("account sign-in without the upstream button: %d %s", code, page)
	}
	code, hdr, _ := b.get("/oauth/upstream/start?id=")
	if code != http.StatusFound {
		t.Fatalf("start: %d", code)
	}
	code, hdr, _ = b.get(hdr.Get("Location"))
	if code != http.StatusFound {
		t.Fatalf("provider: %d", code)
	}
	code, hdr, page = b.get(hdr.Get("Location"))
	if code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("upstream callback: %d %q %s", code, hdr.Get("Location"), page)
	}
	if code, _, page := b.get("/oauth/account"); code != http.StatusOK || !strings.Contains(page, "Travel GPT") || !strings.Contains(page, "erin@example.com") {
		t.Fatalf("account page after upstream sign-in: %d %s", code, page)
	}
}
