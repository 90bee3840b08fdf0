package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestAuthorizationCodeCannotBeStolenThroughTheCallback mounts the attack of
// issue 10 item 1: the attacker starts a flow in their own client, sends the
// victim the sign-in link of that flow, and once the victim (already signed in)
// allows it, asks the server for the code of the attacker's own request. The
// code must only ever reach the browser that consented, and from there the
// redirect URI; the attacker, with no cookies or with a session of their own,
// gets none.
func TestAuthorizationCodeCannotBeStolenThroughTheCallback(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	o.CreateUser("mallory@example.com", "mallory's own passphrase")

	// The victim connected the GPT earlier, so their browser is signed in.
	victim := harness.NewBrowser(o.Deployment)
	if cb := victim.Authorize(harness.AuthorizeQuery(o.App, "victim-own"), harness.AliceEmail, harness.AlicePassword); cb.Query().Get("code") == "" {
		t.Fatalf("the victim's own connection: %s", cb)
	}

	// Mallory has a session of her own, as she would after starting a flow in
	// her ChatGPT; an anonymous client has none.
	mallory := harness.NewBrowser(o.Deployment)
	if cb := mallory.Authorize(harness.AuthorizeQuery(o.App, "mallory-own"), "mallory@example.com", "mallory's own passphrase"); cb.Query().Get("code") == "" {
		t.Fatalf("mallory's own connection: %s", cb)
	}
	anonymous := harness.NewBrowser(o.Deployment)

	for _, link := range []string{"/oauth/login", "/oauth/consent"} {
		t.Run(strings.TrimPrefix(link, "/oauth/"), func(t *testing.T) {
			state := "attacker-state-" + strings.TrimPrefix(link, "/oauth/")
			// The attacker's flow: its state, its (absent) PKCE verifier.
			_, hdr, _ := anonymous.Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, state).Encode())
			loc, err := url.Parse(hdr.Get("Location"))
			if err != nil || loc.Query().Get("id") == "" {
				t.Fatalf("authorize sent the attacker to %q", hdr.Get("Location"))
			}
			id := loc.Query().Get("id")
			poll := func(when string) {
				t.Helper()
				for name, b := range map[string]*harness.Browser{"no cookies": anonymous, "own session": mallory} {
					code, hdr, body := b.Get("/oauth/authorize/callback?id=" + url.QueryEscape(id))
					if !strings.Contains(hdr.Get("Location"), "code=") && !strings.Contains(body, "code=") {
						continue
					}
					t.Errorf("%s, attacker with %s: the callback handed out a code: %d %q", when, name, code, hdr.Get("Location"))
					if stolen, err := url.Parse(hdr.Get("Location")); err == nil && stolen.Query().Get("code") != "" {
						status, _, tok := o.Token(o.App, true, harness.Exchange(stolen.Query().Get("code")))
						if status == http.StatusOK {
							t.Errorf("and the attacker redeemed it for the victim's tokens (scope %q)", tok.Scope)
						}
					}
				}
			}
			poll("before consent")

			// The victim follows the link, lands on the consent page for the
			// attacker's request, and allows it.
			code, hdr, page := victim.Get(link + "?id=" + url.QueryEscape(id))
			if code == http.StatusSeeOther {
				code, hdr, page = victim.Get(hdr.Get("Location"))
			}
			if code != http.StatusOK || !strings.Contains(page, `action="/oauth/consent"`) {
				t.Fatalf("victim on %s: %d %s", link, code, page)
			}
			f := harness.Fields(page)
			code, hdr, _ = victim.Post("/oauth/consent", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]}, "decision": {"allow"}})
			if code/100 != 3 {
				t.Fatalf("victim's consent: %d", code)
			}
			poll("after consent")

			// Wherever the victim's browser went, the attacker never holds a code:
			// the consent answered the victim's browser only, so every code
			// redeemable for the attacker's flow is the one sent to the redirect
			// URI in the victim's browser (where ChatGPT refuses the foreign state).
			if got := hdr.Get("Location"); strings.Contains(got, "/oauth/authorize/callback") {
				t.Errorf("consent still hands the code out through a callback anyone may call: %q", got)
			}
		})
	}
}
