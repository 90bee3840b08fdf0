package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// issuedBeforeDisable is what a GPT holds for alice when she (or the GPT) is
// disabled: a code not yet redeemed, and a token pair already refreshed once.
type issuedBeforeDisable struct {
	code string
	tok  tokenResponse
}

func (o *oauthEnv) issueBeforeDisable(t *testing.T) issuedBeforeDisable {
	t.Helper()
	pending := o.code(authorizeQuery(o.app, "pending"))
	status, _, first := o.token(o.app, true, exchange(o.code(authorizeQuery(o.app, "live"))))
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %+v", status, first)
	}
	status, _, tok := o.token(o.app, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %+v", status, tok)
	}
	if code, _, body := o.call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("search before disable: %d %v", code, body)
	}
	if code, info := o.userinfo(tok.AccessToken); code != http.StatusOK || info["sub"] == "" {
		t.Fatalf("userinfo before disable: %d %v", code, info)
	}
	return issuedBeforeDisable{code: pending, tok: tok}
}

// wantNothingWorks checks that nothing issued before the disable still works.
func (o *oauthEnv) wantNothingWorks(t *testing.T, held issuedBeforeDisable) {
	t.Helper()
	if status, _, r := o.token(o.app, true, exchange(held.code)); status == http.StatusOK || r.AccessToken != "" {
		t.Errorf("a code issued before the disable was redeemed: %d %+v", status, r)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {held.tok.RefreshToken}}
	if status, _, r := o.token(o.app, true, refresh); status == http.StatusOK || r.AccessToken != "" {
		t.Errorf("a refresh token issued before the disable was used: %d %+v", status, r)
	}
	if code, _, body := o.call("POST", "/api/v1/search", held.tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("an access token issued before the disable reached the API: %d %v", code, body)
	}
	if code, info := o.userinfo(held.tok.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("userinfo answered an access token issued before the disable: %d %v", code, info)
	}
}

func TestDisabledUserKeepsNoAccess(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	held := o.issueBeforeDisable(t)
	if out, err := o.cli("users", "disable", aliceEmail); err != nil {
		t.Fatalf("users disable: %v %s", err, out)
	}
	o.wantNothingWorks(t, held)

	// Her pending authorization requests are gone with her grants.
	var pending int
	if err := o.pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_auth_requests r
		JOIN custom_gpt_users u ON u.id = r.subject WHERE lower(u.email) = $1 AND r.code_used_at IS NULL`, aliceEmail).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d authorization requests of the disabled user remain", pending)
	}
}

func TestDisabledApplicationKeepsNoAccess(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	held := o.issueBeforeDisable(t)
	if out, err := o.cli("apps", "disable", o.app.AppID); err != nil {
		t.Fatalf("apps disable: %v %s", err, out)
	}
	o.wantNothingWorks(t, held)
	// No new connection starts either.
	code, hdr, body := newBrowser(o.env).get("/oauth/authorize?" + authorizeQuery(o.app, "after").Encode())
	if code/100 != 4 || hdr.Get("Location") != "" {
		t.Errorf("authorize for a disabled application: %d %q %s", code, hdr.Get("Location"), body)
	}
}

// A user disabled without their grants being revoked (a disable interrupted
// between its two steps, or done in the database) still gets nothing: the
// user's status is checked at refresh and on every token-authenticated request.
func TestUserStatusIsCheckedOnEveryUse(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	held := o.issueBeforeDisable(t)
	if _, err := o.pool().Exec(context.Background(), `UPDATE custom_gpt_users SET status = 'disabled' WHERE lower(email) = $1`, aliceEmail); err != nil {
		t.Fatal(err)
	}
	o.wantNothingWorks(t, held)
}
