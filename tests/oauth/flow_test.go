package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestOAuthFlowAsChatGPTRunsIt: authorize → sign in → consent → code at the
// redirect URI → token exchange (both methods) → API calls as the end user →
// refresh → reuse detection.
func TestOAuthFlowAsChatGPTRunsIt(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateOAuthApp("Travel GPT", harness.ChatGPTCallback, "https://chat.openai.com/aip/g-test/oauth/callback")
	userID := e.CreateUser("alice@example.com", "correct horse battery staple")
	e.Start("serve")

	for _, basic := range []bool{true, false} {
		t.Run(fmt.Sprintf("basic=%v", basic), func(t *testing.T) {
			b := harness.NewBrowser(e)
			state := fmt.Sprintf("state-%v-%d", basic, len(app.AppID))
			cb := b.Authorize(harness.AuthorizeQuery(app, state), "alice@example.com", "correct horse battery staple")
			if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
				t.Fatalf("callback %s", cb)
			}
			code, hdr, tok := e.Token(app, basic, url.Values{"grant_type": {"authorization_code"},
				"code": {cb.Query().Get("code")}, "redirect_uri": {harness.ChatGPTCallback}})
			if code != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
				t.Fatalf("code exchange: %d %+v", code, tok)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("token answer Cache-Control %q", hdr.Get("Cache-Control"))
			}

			// The token reaches the end user's own memory space.
			code, _, body := e.Call("POST", "/api/v1/memories", tok.AccessToken, map[string]any{"content": "Alice likes aisle seats " + state})
			if code != http.StatusAccepted {
				t.Fatalf("create with token: %d %v", code, body)
			}
			opID := body["operation_id"].(string)
			e.Eventually("the operation succeeds", func() bool { return e.OperationStatus(tok.AccessToken, opID) == "succeeded" })
			found := false
			for _, m := range e.Bank.Memories() {
				if m.Metadata["operation_id"] == opID {
					found = m.UserID == app.AppID+":"+userID && m.AgentID == "custom_gpt:"+app.AppID
				}
			}
			if !found {
				t.Fatalf("memory not stored in the end user's scope: %+v", e.Bank.Memories())
			}

			// Refresh rotates; the spent refresh token revokes the family.
			code, _, fresh := e.Token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if code != http.StatusOK || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh: %d %+v", code, fresh)
			}
			if code, _, _ := e.Call("POST", "/api/v1/search", fresh.AccessToken, map[string]any{"query": "aisle seats"}); code != http.StatusOK {
				t.Fatalf("refreshed token: %d", code)
			}
			code, _, reuse := e.Token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if code != http.StatusBadRequest || reuse.Error != "invalid_grant" {
				t.Fatalf("reuse of a rotated refresh token: %d %+v", code, reuse)
			}
			code, _, after := e.Token(app, basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken}})
			if code != http.StatusBadRequest || after.Error != "invalid_grant" {
				t.Fatalf("the family survived reuse: %d %+v", code, after)
			}
			code, hdr, _ = e.Call("POST", "/api/v1/search", fresh.AccessToken, map[string]any{"query": "aisle seats"})
			if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("access token of a revoked family: %d %q", code, hdr.Get("WWW-Authenticate"))
			}
		})
	}
}
