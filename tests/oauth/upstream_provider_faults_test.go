package oauth

import (
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/oidctest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A provider that rotates its signing key is still trusted: the first ID
// token under the new kid makes the service fetch the JWKS again.
func TestUpstreamSignInFollowsKeyRotation(t *testing.T) {
	t.Parallel()
	u := newUpstreamEnv(t)
	u.Start("serve")

	u.op.SignInAs(oidctest.User{Subject: "upstream-rosa", Email: "rosa@example.com", EmailVerified: true})
	u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-before")
	fetched := u.op.KeyFetches()
	if err := u.op.RotateKey(); err != nil {
		t.Fatal(err)
	}
	u.op.SignInAs(oidctest.User{Subject: "upstream-sam", Email: "sam@example.com", EmailVerified: true})
	u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-after")
	if u.op.KeyFetches() == fetched {
		t.Fatal("the ID token under the new key was accepted without fetching the JWKS again")
	}
	if id, _ := u.localUser(t, "upstream-sam"); id == "" {
		t.Fatal("no user for the sign-in after the rotation")
	}
}

// Userinfo the service cannot use, when it needs userinfo (the ID token has
// no email, or an unverified one), refuses the sign-in and writes nothing:
// a failing or hanging userinfo is an unavailable provider, and an answer
// for another subject must not be used (OpenID Connect Core 5.3.2).
func TestUpstreamSignInRefusesUnusableUserinfo(t *testing.T) {
	t.Parallel()
	u := newUpstreamEnv(t)
	u.Start("serve")
	emailInBoth := oidctest.User{Subject: "upstream-uma", Email: "uma@example.com", EmailVerified: true}
	emailOnlyInUserinfo := emailInBoth
	emailOnlyInUserinfo.EmailOnlyInUserinfo = true
	// The ID token says the email is unverified; userinfo says it is.
	unverifiedInIDToken := func() {
		u.op.Tamper(func(c map[string]any) { c["email_verified"] = false })
	}

	for _, tt := range []struct {
		name   string
		user   oidctest.User
		fault  func()
		status int
		text   string
	}{
		{"userinfo fails", emailOnlyInUserinfo, func() { u.op.FailUserinfo(http.StatusInternalServerError) },
			http.StatusServiceUnavailable, "Sign-in with Acme SSO is unavailable"},
		// Past the service's 10 second client timeout.
		{"userinfo hangs", emailOnlyInUserinfo, func() { u.op.SlowUserinfo(time.Minute) },
			http.StatusServiceUnavailable, "Sign-in with Acme SSO is unavailable"},
		{"userinfo answers for another subject", emailOnlyInUserinfo, func() { u.op.UserinfoSubject("upstream-victim") },
			http.StatusServiceUnavailable, "Sign-in with Acme SSO is unavailable"},
		// Its verified email is not used: the ID token's unverified one is.
		{"userinfo for another subject vouches for the email", emailInBoth, func() {
			unverifiedInIDToken()
			u.op.UserinfoSubject("upstream-victim")
		}, http.StatusBadRequest, "has not verified your email address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() {
				u.op.FailUserinfo(0)
				u.op.SlowUserinfo(0)
				u.op.UserinfoSubject("")
				u.op.Tamper(nil)
			})
			u.op.SignInAs(tt.user)
			tt.fault()
			before := u.userCount(t)
			b := harness.NewBrowser(u.Deployment)
			status, hdr, body := b.Get(u.toUpstreamCallback(b, "state-userinfo").String())
			wantRefused(t, b, status, hdr, body, tt.status, tt.text)
			if id, _ := u.localUser(t, tt.user.Subject); id != "" || u.userCount(t) != before {
				t.Fatalf("a refused sign-in wrote a user (%q; %d users, were %d)", id, u.userCount(t), before)
			}
		})
	}

	// The same provider, userinfo mended: the sign-in that needs it works,
	// and so does the one whose ID token says the email is unverified.
	t.Run("userinfo answers for the signed-in subject", func(t *testing.T) {
		u.op.SignInAs(emailOnlyInUserinfo)
		u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-mended")
		if id, _ := u.localUser(t, emailOnlyInUserinfo.Subject); id == "" {
			t.Fatal("no user from userinfo's email")
		}
		u.op.SignInAs(oidctest.User{Subject: "upstream-vera", Email: "vera@example.com", EmailVerified: true})
		unverifiedInIDToken()
		t.Cleanup(func() { u.op.Tamper(nil) })
		u.signInThroughUpstream(harness.NewBrowser(u.Deployment), "state-verified-by-userinfo")
		if id, _ := u.localUser(t, "upstream-vera"); id == "" {
			t.Fatal("userinfo's verified email of the same subject was not used")
		}
	})
}
