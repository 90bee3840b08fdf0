package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
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

// LoopbackCallback is where the tests' clients that register themselves say
// they listen: a loopback address, which every application's policy allows
// (RFC 8252). Nothing listens there; a test's browser stops at the redirect.
const LoopbackCallback = "http://127.0.0.1:7777/callback"

// RegisterClient posts a Dynamic Client Registration (RFC 7591).
func (e *Deployment) RegisterClient(metadata any) (int, map[string]any) {
	e.T.Helper()
	body, err := json.Marshal(metadata)
	if err != nil {
		e.T.Fatal(err)
	}
	resp, err := http.Post(e.Base+"/oauth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// RegisterPublicClient registers a public client calling back at
// LoopbackCallback and returns its client_id.
func (e *Deployment) RegisterPublicClient(name string) string {
	e.T.Helper()
	code, out := e.RegisterClient(map[string]any{"client_name": name, "redirect_uris": []string{LoopbackCallback},
		"token_endpoint_auth_method": "none"})
	id, _ := out["client_id"].(string)
	if code != http.StatusCreated || id == "" {
		e.T.Fatalf("register %s: %d %v", name, code, out)
	}
	return id
}

// RegisteredAuthorizeQuery asks, as the registered client clientID, for
// appID's MCP endpoint with PKCE S256, calling back at LoopbackCallback.
func (e *Deployment) RegisteredAuthorizeQuery(clientID, appID, state string) url.Values {
	q := e.MCPAuthorizeQuery(OauthApp{AppCreds: AppCreds{AppID: appID}}, state)
	q.Set("client_id", clientID)
	q.Set("redirect_uri", LoopbackCallback)
	return q
}
