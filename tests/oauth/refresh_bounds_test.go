package oauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A refresh token is bound to the client it was issued to (RFC 6749 sections
// 6 and 10.4): another client, authenticated with its own credentials, gets
// nothing for it, however it authenticates.
func TestRefreshTokenOfAnotherClientIsRefused(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	for _, basic := range []bool{true, false} {
		t.Run(fmt.Sprintf("basic=%v", basic), func(t *testing.T) {
			tok := o.GrantTokens("memories:read memories:write") // a grant of its own each time
			status, got := o.Refresh(other, basic, tok.RefreshToken, "")
			if status != http.StatusBadRequest || got.Error != "invalid_grant" || got.AccessToken != "" || got.RefreshToken != "" {
				t.Fatalf("another client's refresh: %d %+v", status, got)
			}
			// Refused, it spent nothing: the owner's next refresh is not
			// taken for reuse, so a leaked token cannot end its grant.
			status, got = o.Refresh(o.App, basic, tok.RefreshToken, "")
			if status != http.StatusOK || got.AccessToken == "" || got.RefreshToken == "" {
				t.Fatalf("the owner's refresh after another client's: %d %+v", status, got)
			}
		})
	}
}

// A refresh may narrow the granted scopes, never widen them (RFC 6749
// section 6). A refused refresh issues nothing, so it spends nothing either:
// the client goes on with the refresh token it has.
func TestRefreshMayOnlyNarrowTheGrantedScopes(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)

	readOnly := o.GrantTokens("memories:read")
	for _, wider := range []string{"memories:write", "memories:read memories:write"} {
		status, got := o.Refresh(o.App, true, readOnly.RefreshToken, wider)
		if status != http.StatusBadRequest || got.Error != "invalid_scope" || got.AccessToken != "" || got.RefreshToken != "" {
			t.Fatalf("refresh of a read-only grant asking for %q: %d %+v", wider, status, got)
		}
	}
	status, got := o.Refresh(o.App, true, readOnly.RefreshToken, "")
	if status != http.StatusOK || got.Scope != "memories:read" || got.RefreshToken == "" {
		t.Fatalf("refresh after the refused ones: %d %+v", status, got)
	}

	both := o.GrantTokens("memories:read memories:write")
	status, narrowed := o.Refresh(o.App, true, both.RefreshToken, "memories:read")
	if status != http.StatusOK || narrowed.Scope != "memories:read" || narrowed.AccessToken == "" {
		t.Fatalf("narrowing refresh: %d %+v", status, narrowed)
	}
	if code, _, body := o.Call("POST", "/api/v1/search", narrowed.AccessToken, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("search with the narrowed token: %d %v", code, body)
	}
	code, hdr, _ := o.Call("POST", "/api/v1/memories", narrowed.AccessToken, map[string]any{"content": "x"})
	if code != http.StatusForbidden || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("write with the narrowed token: %d %q", code, hdr.Get("WWW-Authenticate"))
	}
}
