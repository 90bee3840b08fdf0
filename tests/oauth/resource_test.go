package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

const verifier = "a-pkce-code-verifier-long-enough-to-be-valid-0123456789"

// mcpQuery asks for app's MCP endpoint as the resource, with PKCE S256.
func mcpQuery(o *harness.OauthEnv, app harness.OauthApp, state string) url.Values {
	q := harness.AuthorizeQuery(app, state)
	sum := sha256.Sum256([]byte(verifier))
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	q.Set("resource", o.Base+"/mcp/"+app.AppID)
	return q
}

// mcpExchange is the token request for a code granted for resource.
func mcpExchange(code, resource string) url.Values {
	form := harness.Exchange(code)
	form.Set("code_verifier", verifier)
	if resource != "" {
		form.Set("resource", resource)
	}
	return form
}

// audience reads the aud claim of an access token, as one string.
func audience(t *testing.T, token string) any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims["aud"]
}

func enableMCP(t *testing.T, o *harness.OauthEnv, appID string, on bool) {
	t.Helper()
	flag := "--enable"
	if !on {
		flag = "--disable"
	}
	if out, err := o.RunCLI("apps", "set-mcp", appID, flag); err != nil {
		t.Fatalf("set-mcp %s: %v %s", flag, err, out)
	}
}

// TestResourceIndicator: a token asked for an application's MCP endpoint
// (RFC 8707) has that URL as its one audience, keeps it across refreshes,
// and is refused by /api/v1; a token asked for nothing is the API's, as before.
func TestResourceIndicator(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	enableMCP(t, o, o.App.AppID, true)
	endpoint := o.Base + "/mcp/" + o.App.AppID

	status, _, tok := o.Token(o.App, true, mcpExchange(o.Code(mcpQuery(o, o.App, "s")), endpoint))
	if status != http.StatusOK || audience(t, tok.AccessToken) != endpoint {
		t.Fatalf("exchange with resource: %d %+v aud %v", status, tok, audience(t, tok.AccessToken))
	}
	if code, _, _ := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("an MCP token at /api/v1: %d, want 401", code)
	}
	// A refresh keeps the grant's resource, named or not; another is refused.
	status, fresh := o.Refresh(o.App, true, tok.RefreshToken, "")
	if status != http.StatusOK || audience(t, fresh.AccessToken) != endpoint {
		t.Fatalf("refresh: %d %+v", status, fresh)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken}, "resource": {o.Base}}
	if status, _, r := o.Token(o.App, true, form); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Fatalf("refresh for another resource: %d %+v", status, r)
	}
	form.Set("resource", endpoint)
	if status, _, r := o.Token(o.App, true, form); status != http.StatusOK || audience(t, r.AccessToken) != endpoint {
		t.Fatalf("refresh naming the grant's resource (the refused one must not have spent it): %d %+v", status, r)
	}

	// Without a resource, nothing changes: aud is the issuer.
	plain := o.GrantTokens("memories:read")
	if audience(t, plain.AccessToken) != o.Base {
		t.Fatalf("a token without resource: aud %v", audience(t, plain.AccessToken))
	}
}

// TestResourceRefusals: only the client's own application's MCP endpoint,
// while it is on, with PKCE S256, named again at the token endpoint.
func TestResourceRefusals(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	enableMCP(t, o, o.App.AppID, true)
	enableMCP(t, o, other.AppID, true)
	endpoint := o.Base + "/mcp/" + o.App.AppID

	refused := func(name string, q url.Values, want string) {
		t.Helper()
		code, hdr, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		loc, _ := url.Parse(hdr.Get("Location"))
		if code/100 != 3 || loc == nil || !strings.HasPrefix(loc.String(), harness.ChatGPTCallback) ||
			loc.Query().Get("error") != want || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q %s", name, code, hdr.Get("Location"), body)
		}
	}
	q := mcpQuery(o, o.App, "s")
	q.Set("resource", o.Base+"/mcp/"+other.AppID)
	refused("another application's endpoint", q, "invalid_target")
	q.Set("resource", endpoint+"/")
	refused("not exactly the endpoint", q, "invalid_target")
	q.Set("resource", "https://elsewhere.example/mcp/"+o.App.AppID)
	refused("another origin", q, "invalid_target")
	q = mcpQuery(o, o.App, "s")
	q.Add("resource", endpoint)
	refused("two resources", q, "invalid_target")
	q = mcpQuery(o, o.App, "s")
	q.Set("code_challenge", verifier)
	q.Set("code_challenge_method", "plain")
	refused("plain PKCE", q, "invalid_request")
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	refused("no PKCE", q, "invalid_request")

	// The token request must name the authorization request's resource.
	for name, res := range map[string]string{"none": "", "the API": o.Base, "another endpoint": o.Base + "/mcp/" + other.AppID} {
		status, _, r := o.Token(o.App, true, mcpExchange(o.Code(mcpQuery(o, o.App, "s")), res))
		if status != http.StatusBadRequest || r.Error != "invalid_target" {
			t.Errorf("token request naming %s: %d %+v", name, status, r)
		}
	}
	// and none when the authorization request named none.
	form := harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "s")))
	form.Set("resource", endpoint)
	if status, _, r := o.Token(o.App, true, form); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Errorf("a resource the code was not granted for: %d %+v", status, r)
	}

	// A refresh token of an endpoint since switched off issues nothing.
	status, _, tok := o.Token(o.App, true, mcpExchange(o.Code(mcpQuery(o, o.App, "s")), endpoint))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %+v", status, tok)
	}
	enableMCP(t, o, o.App.AppID, false)
	if status, r := o.Refresh(o.App, true, tok.RefreshToken, ""); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Errorf("refresh after MCP was switched off: %d %+v", status, r)
	}
	refused("an endpoint switched off", mcpQuery(o, o.App, "s"), "invalid_target")
}
