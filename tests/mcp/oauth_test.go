package mcp

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestSignIn: an MCP client given the application's OAuth client signs the
// end user in for the endpoint (PKCE S256 and resource), and with the token it
// gets reaches the same memory as the GPT's token for that user at /api/v1;
// each token is good at its own resource only.
func TestSignIn(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	o.SetMCP(o.App.AppID, true)
	o.SetMCP(other.AppID, true)
	endpoint := o.MCPResource(o.App.AppID)

	// Discovery, as an MCP client does it: 401, its resource_metadata, the document.
	code, hdr, _ := initialize(t, o.Deployment, "/mcp/"+o.App.AppID, "")
	prmURL := o.Base + "/.well-known/oauth-protected-resource/mcp/" + o.App.AppID
	if want := `Bearer resource_metadata="` + prmURL + `"`; code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != want {
		t.Fatalf("no credential: %d %q, want %q", code, hdr.Get("WWW-Authenticate"), want)
	}
	status, prm := getJSON(t, prmURL)
	if status != http.StatusOK || prm["resource"] != endpoint || !slices.Equal(stringsOf(prm["authorization_servers"]), []string{o.Base}) ||
		!slices.Equal(stringsOf(prm["scopes_supported"]), []string{"memories:read", "memories:write"}) ||
		!slices.Equal(stringsOf(prm["bearer_methods_supported"]), []string{"header"}) {
		t.Fatalf("protected resource metadata: %d %v", status, prm)
	}

	status, _, tok := o.Token(o.App, true, harness.MCPExchange(o.Code(o.MCPAuthorizeQuery(o.App, "s")), endpoint))
	if status != http.StatusOK || harness.Audience(t, tok.AccessToken) != endpoint {
		t.Fatalf("token for the endpoint: %d %+v", status, tok)
	}
	s, err := connect(t, o.Deployment, o.App.AppID, tok.AccessToken)
	if err != nil {
		t.Fatalf("the SDK's client with the endpoint's token: %v", err)
	}
	defer s.Close()
	got := ok(t, s, "remember", map[string]any{"content": "The user's cat is called Miso"})
	if got["status"] != "succeeded" || len(ids(got)) != 1 {
		t.Fatalf("remember: %v", got)
	}
	id, _ := ids(got)[0].(string)
	if found := ok(t, s, "search_memories", map[string]any{"query": "cat"}); !hasMemory(found["results"], id) {
		t.Fatalf("search_memories: %v", found)
	}

	// The GPT's token for the same user sees the same memory at the API, and is refused at MCP.
	gpt := o.GrantTokens("memories:read memories:write")
	if code, _, page := o.Call("GET", "/api/v1/memories", gpt.AccessToken, nil); code != http.StatusOK || !hasMemory(page["memories"], id) {
		t.Fatalf("the GPT's token does not see the memory stored through MCP: %d %v", code, page)
	}
	// The application's own space (its API key) is not the user's.
	if code, _, page := o.Call("GET", "/api/v1/memories", o.App.APIKey, nil); code != http.StatusOK || hasMemory(page["memories"], id) {
		t.Fatalf("the application's own space holds the user's memory: %d %v", code, page)
	}

	for name, tc := range map[string]struct{ path, token string }{
		"the GPT's token at MCP":          {"/mcp/" + o.App.AppID, gpt.AccessToken},
		"the MCP token at another app's":  {"/mcp/" + other.AppID, tok.AccessToken},
		"another app's endpoint as a key": {"/mcp/" + other.AppID, o.App.APIKey},
	} {
		code, hdr, p := initialize(t, o.Deployment, tc.path, tc.token)
		want := `Bearer resource_metadata="` + o.Base + "/.well-known/oauth-protected-resource" + tc.path + `", error="invalid_token"`
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != want || p["type"] != "urn:custom-gpt-adapter:problem:invalid-credentials" {
			t.Errorf("%s: %d %q %v", name, code, hdr.Get("WWW-Authenticate"), p)
		}
	}
	if code, _, _ := o.Call("POST", "/api/v1/search", tok.AccessToken, map[string]any{"query": "cat"}); code != http.StatusUnauthorized {
		t.Errorf("the MCP token at /api/v1: %d, want 401", code)
	}

	// A token lacking a tool's scope is refused before the tool runs, and told what to ask for.
	q := o.MCPAuthorizeQuery(o.App, "read-only")
	q.Set("scope", "memories:read")
	status, _, readOnly := o.Token(o.App, true, harness.MCPExchange(o.Code(q), endpoint))
	if status != http.StatusOK || readOnly.Scope != "memories:read" {
		t.Fatalf("read-only token: %d %+v", status, readOnly)
	}
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"forget_everything","arguments":{}}}`,
		`[{"jsonrpc":"2.0","id":2,"method":"tools/list"},{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"remember","arguments":{"content":"x"}}}]`,
	} {
		code, hdr, p := post(t, o.Deployment, "/mcp/"+o.App.AppID, readOnly.AccessToken, body)
		want := `Bearer error="insufficient_scope", scope="memories:read memories:write", resource_metadata="` + prmURL + `"`
		if code != http.StatusForbidden || hdr.Get("WWW-Authenticate") != want || p["type"] != "urn:custom-gpt-adapter:problem:insufficient-scope" {
			t.Errorf("a write with a read-only token: %d %q %v", code, hdr.Get("WWW-Authenticate"), p)
		}
	}
	ro, err := connect(t, o.Deployment, o.App.AppID, readOnly.AccessToken)
	if err != nil {
		t.Fatalf("the SDK's client with a read-only token: %v", err)
	}
	defer ro.Close()
	if found := ok(t, ro, "search_memories", map[string]any{"query": "cat"}); !hasMemory(found["results"], id) {
		t.Fatalf("search_memories with a read-only token: %v", found)
	}
	if m := ok(t, s, "get_memory", map[string]any{"memory_id": id}); m["content"] != "The user's cat is called Miso" {
		t.Fatalf("the memory after the refused writes: %v", m)
	}

	// Only an endpoint that answers has metadata.
	o.SetMCP(other.AppID, false)
	for _, app := range []string{other.AppID, "no-such-app"} {
		if status, _ := getJSON(t, o.Base+"/.well-known/oauth-protected-resource/mcp/"+app); status != http.StatusNotFound {
			t.Errorf("metadata of %s: %d, want 404", app, status)
		}
	}
}

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func stringsOf(v any) (out []string) {
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
