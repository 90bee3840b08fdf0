package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// refresh asks the token endpoint for a refresh as app; scope "" asks for the
// granted scopes.
func (o *oauthEnv) refresh(app oauthApp, basic bool, refreshToken, scope string) (int, tokenResponse) {
	o.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, _, tok := o.token(app, basic, form)
	return status, tok
}

// grantTokens runs the browser flow for scope and exchanges the code.
func (o *oauthEnv) grantTokens(scope string) tokenResponse {
	o.t.Helper()
	q := authorizeQuery(o.app, "state-"+strings.ReplaceAll(scope, " ", "-"))
	q.Set("scope", scope)
	status, _, tok := o.token(o.app, true, exchange(o.code(q)))
	if status != http.StatusOK || tok.RefreshToken == "" || tok.Scope != scope {
		o.t.Fatalf("code exchange for %q: %d %+v", scope, status, tok)
	}
	return tok
}

// A refresh token is bound to the client it was issued to (RFC 6749 sections
// 6 and 10.4): another client, authenticated with its own credentials, gets
// nothing for it, however it authenticates.
func TestRefreshTokenOfAnotherClientIsRefused(t *testing.T) {
	t.Parallel()
	o := newOAuthEnv(t, nil)
	other := o.createOAuthApp("Other GPT", chatGPTCallback)
	for _, basic := range []bool{true, false} {
		t.Run(fmt.Sprintf("basic=%v", basic), func(t *testing.T) {
			tok := o.grantTokens("memories:read memories:write") // a grant of its own each time
			status, got := o.refresh(other, basic, tok.RefreshToken, "")
			if status != http.StatusBadRequest || got.Error != "invalid_grant" || got.AccessToken != "" || got.RefreshToken != "" {
				t.Fatalf("another client's refresh: %d %+v", status, got)
			}
		})
	}
}
