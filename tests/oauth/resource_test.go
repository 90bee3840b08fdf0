package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestResourceIndicator: a token asked for an application's MCP endpoint
// (RFC 8707) has that URL as its one audience, keeps it across refreshes,
// and is refused by /api/v1; a token asked for nothing is the API's, as before.
func TestResourceIndicator(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	o.SetMCP(o.App.AppID, true)
	endpoint := o.Base + "/mcp/" + o.App.AppID

	status, _, tok := o.Token(o.App, true, harness.MCPExchange(o.Code(o.MCPAuthorizeQuery(o.App, "s")), endpoint))
	if status != http.StatusOK || harness.Audience(t, tok.AccessToken) != endpoint {
		t.Fatalf("exchange with resource: %d %+v aud %v", status, tok, harness.Audience(t, tok.AccessToken))
	}
	if code, _, _ := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("an MCP token at /api/v1: %d, want 401", code)
	}
	// A refresh keeps the grant's resource, named or not; another is refused.
	status, fresh := o.Refresh(o.App, true, tok.RefreshToken, "")
	if status != http.StatusOK || harness.Audience(t, fresh.AccessToken) != endpoint {
		t.Fatalf("refresh: %d %+v", status, fresh)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken}, "resource": {o.Base}}
	if status, _, r := o.Token(o.App, true, form); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Fatalf("refresh for another resource: %d %+v", status, r)
	}
	form.Set("resource", endpoint)
	if status, _, r := o.Token(o.App, true, form); status != http.StatusOK || harness.Audience(t, r.AccessToken) != endpoint {
		t.Fatalf("refresh naming the grant's resource (the refused one must not have spent it): %d %+v", status, r)
	}

	// Its client can introspect and revoke it like any of its tokens.
	introspect := func() map[string]any {
		_, _, m := o.PostForm("/oauth/introspect", url.Values{"token": {tok.AccessToken}}, o.App.AppID, o.App.ClientSecret)
		return m
	}
	if m := introspect(); m["active"] != true || m["sub"] == nil {
		t.Fatalf("introspection of the MCP token: %v", m)
	}
	if code, _, _ := o.PostForm("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, o.App.AppID, o.App.ClientSecret); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if m := introspect(); m["active"] != false {
		t.Fatalf("introspection of the revoked MCP token: %v", m)
	}

	// Without a resource, nothing changes: aud is the issuer.
	plain := o.GrantTokens("memories:read")
	if harness.Audience(t, plain.AccessToken) != o.Base {
		t.Fatalf("a token without resource: aud %v", harness.Audience(t, plain.AccessToken))
	}
}

// TestResourceRefusals: only the client's own application's MCP endpoint,
// while it is on, with PKCE S256, named again at the token endpoint.
func TestResourceRefusals(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	o.SetMCP(o.App.AppID, true)
	o.SetMCP(other.AppID, true)
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
	q := o.MCPAuthorizeQuery(o.App, "s")
	q.Set("resource", o.Base+"/mcp/"+other.AppID)
	refused("another application's endpoint", q, "invalid_target")
	q.Set("resource", endpoint+"/")
	refused("not exactly the endpoint", q, "invalid_target")
	q.Set("resource", "https://elsewhere.example/mcp/"+o.App.AppID)
	refused("another origin", q, "invalid_target")
	q = o.MCPAuthorizeQuery(o.App, "s")
	q.Add("resource", endpoint)
	refused("two resources", q, "invalid_target")
	q = o.MCPAuthorizeQuery(o.App, "s")
	q.Set("code_challenge", harness.PKCEVerifier)
	q.Set("code_challenge_method", "plain")
	refused("plain PKCE", q, "invalid_request")
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	refused("no PKCE", q, "invalid_request")

	// The token request must name the authorization request's resource.
	for name, res := range map[string]string{"none": "", "the API": o.Base, "another endpoint": o.Base + "/mcp/" + other.AppID} {
		status, _, r := o.Token(o.App, true, harness.MCPExchange(o.Code(o.MCPAuthorizeQuery(o.App, "s")), res))
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

	// A service token acts for the application itself, at the API only.
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}, "resource": {endpoint}}
	if status, _, r := o.Token(o.App, true, cc); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Errorf("client_credentials with a resource: %d %+v", status, r)
	}

	// A refresh token of an endpoint since switched off issues nothing.
	status, _, tok := o.Token(o.App, true, harness.MCPExchange(o.Code(o.MCPAuthorizeQuery(o.App, "s")), endpoint))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %+v", status, tok)
	}
	o.SetMCP(o.App.AppID, false)
	if status, r := o.Refresh(o.App, true, tok.RefreshToken, ""); status != http.StatusBadRequest || r.Error != "invalid_target" {
		t.Errorf("refresh after MCP was switched off: %d %+v", status, r)
	}
	refused("an endpoint switched off", o.MCPAuthorizeQuery(o.App, "s"), "invalid_target")
}
