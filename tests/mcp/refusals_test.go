package mcp

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// initialize posts an MCP initialize request to path as token, as any client
// would, and returns the answer's status, headers and body.
func initialize(t *testing.T, e *harness.Deployment, path, token string) (int, http.Header, map[string]any) {
	t.Helper()
	return post(t, e, path, token,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
}

// post sends one JSON-RPC body to path as token; a problem answer is decoded.
func post(t *testing.T, e *harness.Deployment, path, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.Base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("POST %s: problem %q: %v", path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// TestRefusals: the endpoint answers only the API key of the application it
// names, and only while that application's MCP is on.
func TestRefusals(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	a, b := o.App, o.CreateApp("Other GPT")
	for _, app := range []string{a.AppID, b.AppID} {
		if out, err := o.RunCLI("apps", "set-mcp", app, "--enable"); err != nil {
			t.Fatalf("set-mcp: %v %s", err, out)
		}
	}
	if code, _, _ := initialize(t, o.Deployment, "/mcp/"+a.AppID, a.APIKey); code != http.StatusOK {
		t.Fatalf("the application's own key: %d", code)
	}
	if _, err := connect(t, o.Deployment, a.AppID, a.APIKey); err != nil {
		t.Fatalf("the SDK's client with the application's own key: %v", err)
	}

	token := o.GrantTokens("memories:read memories:write").AccessToken
	for name, tc := range map[string]struct{ app, token string }{
		"an unknown key":              {a.AppID, "cgpt_" + strings.Repeat("x", 40)},
		"another app's key":           {a.AppID, b.APIKey},
		"an unknown app":              {"no-such-app", a.APIKey},
		"an access token for the API": {a.AppID, token},
	} {
		code, hdr, p := initialize(t, o.Deployment, "/mcp/"+tc.app, tc.token)
		challenge := `Bearer resource_metadata="` + o.Base + `/.well-known/oauth-protected-resource/mcp/` + tc.app + `", error="invalid_token"`
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != challenge || p["type"] != "urn:custom-gpt-adapter:problem:invalid-credentials" {
			t.Errorf("%s: %d %q %v", name, code, hdr.Get("WWW-Authenticate"), p)
		}
	}
	if _, err := connect(t, o.Deployment, a.AppID, b.APIKey); err == nil {
		t.Errorf("the SDK's client connected with another application's key")
	}
	// The access token itself works at /api/v1, its audience.
	if code, _, body := o.Call("POST", "/api/v1/search", token, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("the access token at /api/v1: %d %v", code, body)
	}

	if out, err := o.RunCLI("apps", "set-mcp", b.AppID, "--disable"); err != nil {
		t.Fatalf("set-mcp --disable: %v %s", err, out)
	}
	code, _, p := initialize(t, o.Deployment, "/mcp/"+b.AppID, b.APIKey)
	if code != http.StatusNotFound || p["type"] != "urn:custom-gpt-adapter:problem:mcp-not-enabled" || p["request_id"] == nil {
		t.Fatalf("MCP switched off: %d %v", code, p)
	}
	if code, _, _ := initialize(t, o.Deployment, "/mcp/"+a.AppID+"/more", a.APIKey); code != http.StatusNotFound {
		t.Fatalf("a path below the endpoint: %d", code)
	}
}

// TestRateLimited: MCP spends the API's budgets; a spent one is a 429 with
// Retry-After before any tool runs.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a := e.CreateApp("Busy GPT")
	for _, args := range [][]string{{"apps", "set-mcp", a.AppID, "--enable"}, {"apps", "set-limits", a.AppID, "--rps", "1", "--burst", "2"}} {
		if out, err := e.RunCLI(args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	e.Start("serve")
	for i := 0; ; i++ {
		code, hdr, p := initialize(t, e, "/mcp/"+a.AppID, a.APIKey)
		if code == http.StatusTooManyRequests {
			if hdr.Get("Retry-After") == "" || p["type"] != "urn:custom-gpt-adapter:problem:rate-limited" {
				t.Fatalf("429 without Retry-After or its problem: %v %v", hdr, p)
			}
			return
		}
		if code != http.StatusOK || i > 10 {
			t.Fatalf("request %d: %d, want 200 until the burst of 2 is spent, then 429", i, code)
		}
	}
}
