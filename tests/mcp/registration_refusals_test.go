package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestRegistrationRefusals: each way a client that registers itself can be
// wrong is refused, black-box, as an attacker would try it, and nothing is
// stored or redirected where it should not be.
func TestRegistrationRefusals(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	other := o.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)
	o.SetMCP(o.App.AppID, true)
	o.SetMCP(other.AppID, true)
	countClients := func() (n int) {
		if err := o.Pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_oauth_clients`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("bad registrations store nothing", func(t *testing.T) {
		ok := []string{harness.LoopbackCallback}
		for name, tc := range map[string]struct {
			metadata any
			want     string
		}{
			"no redirect URI":       {map[string]any{"client_name": "x"}, "invalid_redirect_uri"},
			"a fragment":            {map[string]any{"redirect_uris": []string{"https://agent.example/cb#x"}}, "invalid_redirect_uri"},
			"http off loopback":     {map[string]any{"redirect_uris": []string{"http://agent.example/cb"}}, "invalid_redirect_uri"},
			"a javascript: URI":     {map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
			"user info":             {map[string]any{"redirect_uris": []string{"https://me@agent.example/cb"}}, "invalid_redirect_uri"},
			"eleven redirect URIs":  {map[string]any{"redirect_uris": strings.Split(strings.Repeat(harness.LoopbackCallback+" ", 11), " ")[:11]}, "invalid_redirect_uri"},
			"private_key_jwt":       {map[string]any{"redirect_uris": ok, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
			"a chosen client_id":    {map[string]any{"redirect_uris": ok, "client_id": "mcpc_mine"}, "invalid_client_metadata"},
			"client_credentials":    {map[string]any{"redirect_uris": ok, "grant_types": []string{"client_credentials"}}, "invalid_client_metadata"},
			"the implicit grant":    {map[string]any{"redirect_uris": ok, "response_types": []string{"token"}}, "invalid_client_metadata"},
			"a long name":           {map[string]any{"redirect_uris": ok, "client_name": strings.Repeat("n", 101)}, "invalid_client_metadata"},
			"an http client_uri":    {map[string]any{"redirect_uris": ok, "client_uri": "http://agent.example"}, "invalid_client_metadata"},
			"not an object":         {[]string{"redirect_uris"}, "invalid_client_metadata"},
			"a wrongly typed field": {map[string]any{"redirect_uris": "https://agent.example/cb"}, "invalid_client_metadata"},
			"larger than 16 KiB":    {map[string]any{"redirect_uris": ok, "software_statement": strings.Repeat("s", 17<<10)}, "invalid_client_metadata"},
		} {
			if code, out := o.RegisterClient(tc.metadata); code != http.StatusBadRequest || out["error"] != tc.want || out["error_description"] == "" {
				t.Errorf("%s: %d %v, want 400 %s", name, code, out, tc.want)
			}
		}
		resp, err := http.Post(o.Base+"/oauth/register", "text/plain", strings.NewReader(`{"redirect_uris":["`+harness.LoopbackCallback+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a registration that is not JSON: %d", resp.StatusCode)
		}
		if n := countClients(); n != 0 {
			t.Errorf("refused registrations stored %d clients", n)
		}
	})

	// authorize asks as a browser would; a refusal shown to the user has no Location.
	authorize := func(q url.Values) (int, string, string) {
		code, hdr, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		return code, hdr.Get("Location"), body
	}
	shown := func(what string, q url.Values, want string) {
		t.Helper()
		if code, loc, body := authorize(q); code != http.StatusBadRequest || loc != "" || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q %s, want 400 shown with %q", what, code, loc, body, want)
		}
	}

	t.Run("a redirect URI outside the policy", func(t *testing.T) {
		code, out := o.RegisterClient(map[string]any{"client_name": "Agent", "redirect_uris": []string{"https://agent.example/cb"},
			"token_endpoint_auth_method": "none"})
		if code != http.StatusCreated {
			t.Fatalf("register: %d %v", code, out)
		}
		q := o.RegisteredAuthorizeQuery(out["client_id"].(string), o.App.AppID, "policy")
		q.Set("redirect_uri", "https://agent.example/cb")
		shown("a redirect URI no policy allows", q, "registration policy")
		if out, err := o.RunCLI("apps", "set-mcp", o.App.AppID, "--redirect-host", "agent.example"); err != nil || !strings.Contains(out, `"redirect_hosts":["agent.example"]`) {
			t.Fatalf("set-mcp --redirect-host: %v %s", err, out)
		}
		if code, loc, body := authorize(q); code != http.StatusFound || !strings.HasPrefix(loc, "/oauth/login?") {
			t.Errorf("once the host is allowed: %d %q %s", code, loc, body)
		}
		// Only for that application.
		q.Set("resource", o.MCPResource(other.AppID))
		shown("the host at another application", q, "registration policy")
		if out, err := o.RunCLI("apps", "set-mcp", o.App.AppID, "--clear-redirect-hosts"); err != nil || !strings.Contains(out, `"redirect_hosts":[]`) {
			t.Fatalf("set-mcp --clear-redirect-hosts: %v %s", err, out)
		}
		q.Set("resource", o.MCPResource(o.App.AppID))
		shown("the host once cleared", q, "registration policy")
		// A registered URI is matched exactly, whatever the policy allows.
		q.Set("redirect_uri", "https://chatgpt.com/connector_platform_oauth_redirect")
		shown("a redirect URI it did not register", q, "redirect_uri")
	})

	public := o.RegisterPublicClient("Agent")
	t.Run("the resource", func(t *testing.T) {
		q := o.RegisteredAuthorizeQuery(public, o.App.AppID, "no-resource")
		q.Del("resource")
		shown("no resource", q, "invalid_target")
		q.Set("resource", o.Base+"/api/v1")
		shown("the API as the resource", q, "invalid_target")
		q.Set("resource", o.MCPResource("no-such-app"))
		shown("an unknown application", q, "invalid_target")
		o.SetMCP(other.AppID, false)
		q.Set("resource", o.MCPResource(other.AppID))
		shown("an application with MCP off", q, "invalid_target")
		o.SetMCP(other.AppID, true)
	})

	t.Run("PKCE", func(t *testing.T) {
		before := o.CountAuthRequests()
		for name, set := range map[string]func(url.Values){
			"plain": func(q url.Values) {
				q.Set("code_challenge_method", "plain")
				q.Set("code_challenge", harness.PKCEVerifier)
			},
			"missing": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		} {
			q := o.RegisteredAuthorizeQuery(public, o.App.AppID, "pkce-"+name)
			set(q)
			code, loc, body := authorize(q)
			cb, _ := url.Parse(loc)
			if code != http.StatusFound || !strings.HasPrefix(loc, harness.LoopbackCallback+"?") || cb.Query().Get("error") != "invalid_request" ||
				cb.Query().Get("state") != "pkce-"+name {
				t.Errorf("PKCE %s: %d %q %s", name, code, loc, body)
			}
		}
		if after := o.CountAuthRequests(); after != before {
			t.Errorf("refused requests were stored: %d, then %d", before, after)
		}
	})

	t.Run("the audience", func(t *testing.T) {
		endpoint := o.MCPResource(o.App.AppID)
		exchange := func(resource string) (int, map[string]any) {
			form := harness.MCPExchange(o.Code(o.RegisteredAuthorizeQuery(public, o.App.AppID, "aud")), resource)
			form.Set("client_id", public)
			form.Set("redirect_uri", harness.LoopbackCallback)
			code, _, body := o.PostForm("/oauth/token", form, "", "")
			return code, body
		}
		if code, body := exchange(o.MCPResource(other.AppID)); code != http.StatusBadRequest || body["error"] != "invalid_target" {
			t.Errorf("a code exchanged for another application's endpoint: %d %v", code, body)
		}
		if code, body := exchange(""); code != http.StatusBadRequest || body["error"] != "invalid_target" {
			t.Errorf("a code exchanged without its resource: %d %v", code, body)
		}
		code, body := exchange(endpoint)
		token, _ := body["access_token"].(string)
		if code != http.StatusOK || harness.Audience(t, token) != endpoint {
			t.Fatalf("the token for the endpoint: %d %v", code, body)
		}
		if code, _, _ := initialize(t, o.Deployment, "/mcp/"+other.AppID, token); code != http.StatusUnauthorized {
			t.Errorf("the token at another application's endpoint: %d, want 401", code)
		}
		if code, _, _ := o.Call("POST", "/api/v1/search", token, map[string]any{"query": "cat"}); code != http.StatusUnauthorized {
			t.Errorf("the token at /api/v1: %d, want 401", code)
		}
		if code, _, _ := initialize(t, o.Deployment, "/mcp/"+o.App.AppID, token); code != http.StatusOK {
			t.Errorf("the token at its own endpoint: %d", code)
		}
		// It has no application of its own to act for.
		if code, _, body := o.PostForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {public}}, "", ""); code == http.StatusOK {
			t.Errorf("client_credentials for a registered client: %d %v", code, body)
		}
	})

	t.Run("a confidential registration needs its secret", func(t *testing.T) {
		code, out := o.RegisterClient(map[string]any{"client_name": "Server agent", "redirect_uris": []string{harness.LoopbackCallback}})
		id, _ := out["client_id"].(string)
		secret, _ := out["client_secret"].(string)
		if code != http.StatusCreated || out["token_endpoint_auth_method"] != "client_secret_basic" || secret == "" {
			t.Fatalf("register with RFC 7591's default method: %d %v", code, out)
		}
		form := harness.MCPExchange(o.Code(o.RegisteredAuthorizeQuery(id, o.App.AppID, "conf")), o.MCPResource(o.App.AppID))
		form.Set("redirect_uri", harness.LoopbackCallback)
		noSecret := url.Values{}
		for k, v := range form {
			noSecret[k] = v
		}
		noSecret.Set("client_id", id)
		if code, _, body := o.PostForm("/oauth/token", noSecret, "", ""); code != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("without its secret: %d %v", code, body)
		}
		if code, _, body := o.PostForm("/oauth/token", form, id, secret); code != http.StatusOK || body["access_token"] == nil {
			t.Errorf("with its secret: %d %v", code, body)
		}
	})

	t.Run("a metadata document on a private address", func(t *testing.T) {
		var fetched atomic.Int64
		docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetched.Add(1)
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": "x"})
		}))
		defer docs.Close()
		port := docs.URL[strings.LastIndex(docs.URL, ":"):]
		for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"} {
			q := o.RegisteredAuthorizeQuery("https://"+host+port+"/client.json", o.App.AppID, "private")
			shown("a document on "+host, q, "loopback")
		}
		if n := fetched.Load(); n != 0 {
			t.Errorf("the private server was reached %d times", n)
		}
	})
}

// TestMetadataDocumentRefusals: a document past the size limit, or naming
// another client_id, is refused; a good one is fetched once while fresh.
func TestMetadataDocumentRefusals(t *testing.T) {
	t.Parallel()
	env := newRegistrationEnv(t)
	shown := func(what, clientID, want string) {
		t.Helper()
		q := env.RegisteredAuthorizeQuery(clientID, env.app.AppID, "doc")
		if code, hdr, body := harness.NewBrowser(env.Deployment).Get("/oauth/authorize?" + q.Encode()); code != http.StatusBadRequest ||
			hdr.Get("Location") != "" || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q %s, want 400 with %q", what, code, hdr.Get("Location"), body, want)
		}
	}
	shown("a document past 5 KB", env.docs.URL+"/huge.json", "larger than 5120 bytes")
	shown("a document naming another client_id", env.docs.URL+"/impostor.json", "not the URL it was fetched from")

	q := env.RegisteredAuthorizeQuery(env.docs.URL+"/client.json", env.app.AppID, "fresh")
	for i := 0; i < 3; i++ {
		if code, hdr, body := harness.NewBrowser(env.Deployment).Get("/oauth/authorize?" + q.Encode()); code != http.StatusFound ||
			!strings.HasPrefix(hdr.Get("Location"), "/oauth/login?") {
			t.Fatalf("a good document, try %d: %d %q %s", i, code, hdr.Get("Location"), body)
		}
	}
	if n := env.docs.Fetched.Load(); n != 3 { // huge, impostor, and client once: its max-age is 600 s
		t.Errorf("the document server was asked %d times, want 3", n)
	}
}
