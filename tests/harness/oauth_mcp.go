package harness

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// PKCEVerifier is the code verifier of MCPAuthorizeQuery's S256 challenge.
const PKCEVerifier = "a-pkce-code-verifier-long-enough-to-be-valid-0123456789"

// MCPResource is the URL of app's MCP endpoint: its RFC 8707 resource.
func (e *Deployment) MCPResource(appID string) string { return e.Base + "/mcp/" + appID }

// MCPAuthorizeQuery asks for app's MCP endpoint as the resource, with PKCE S256.
func (e *Deployment) MCPAuthorizeQuery(app OauthApp, state string) url.Values {
	q := AuthorizeQuery(app, state)
	sum := sha256.Sum256([]byte(PKCEVerifier))
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	q.Set("resource", e.MCPResource(app.AppID))
	return q
}

// MCPExchange is the token request for a code of MCPAuthorizeQuery, naming
// resource (none when empty).
func MCPExchange(code, resource string) url.Values {
	form := Exchange(code)
	form.Set("code_verifier", PKCEVerifier)
	if resource != "" {
		form.Set("resource", resource)
	}
	return form
}

// Audience reads the aud claim of an access token.
func Audience(t testing.TB, token string) any {
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

// SetMCP switches appID's MCP endpoint on or off.
func (e *Deployment) SetMCP(appID string, on bool) {
	e.T.Helper()
	flag := "--enable"
	if !on {
		flag = "--disable"
	}
	if out, err := e.RunCLI("apps", "set-mcp", appID, flag); err != nil {
		e.T.Fatalf("set-mcp %s %s: %v %s", appID, flag, err, out)
	}
}
