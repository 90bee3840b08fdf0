package mcp

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// clientCallback is where the clients of these tests say they listen: a
// loopback address, which every application's policy allows (RFC 8252).
// Nothing listens there; the test's browser stops at the redirect.
const clientCallback = harness.LoopbackCallback

const (
	bobEmail    = "bob@example.com"
	bobPassword = "another horse battery staple"
)

// documentServer serves Client ID Metadata Documents over TLS: at
// /client.json a public client's, at /huge.json one past the size limit, at
// /impostor.json one naming another URL as its client_id.
// Fetched counts the requests it got.
type documentServer struct {
	*httptest.Server
	Fetched atomic.Int64
}

func newDocumentServer(t *testing.T) *documentServer {
	d := &documentServer{}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.Fetched.Add(1)
		doc := map[string]any{"client_id": d.URL + r.URL.Path, "client_name": "Doc Agent", "redirect_uris": []string{clientCallback},
			"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
			"token_endpoint_auth_method": "none"}
		switch r.URL.Path {
		case "/huge.json":
			doc["client_uri"] = "https://doc-agent.example/" + strings.Repeat("x", 6000)
		case "/impostor.json":
			doc["client_id"] = d.URL + "/client.json"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=600")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(d.Close)
	return d
}

// trustFile writes the server's certificate where SSL_CERT_FILE can name it.
func (d *documentServer) trustFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.Certificate().Raw})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// registrationEnv is a deployment whose API runs in a process of its own,
// trusting only the document server's certificate, and fetching documents
// from loopback addresses; two applications with MCP on, two users.
type registrationEnv struct {
	*harness.Deployment
	docs       *documentServer
	app, other harness.OauthApp
	// signInsRefused makes every later sign-in only try the authorization
	// URL, and keep what it answered in refusals.
	signInsRefused atomic.Bool
	refusals       chan string
}

func newRegistrationEnv(t *testing.T) *registrationEnv {
	docs := newDocumentServer(t)
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_CLIENT_METADATA_ALLOW_PRIVATE"] = "true"
	e.Vars["SSL_CERT_FILE"] = docs.trustFile(t)
	env := &registrationEnv{Deployment: e, docs: docs, refusals: make(chan string, 10),
		app: e.CreateOAuthApp("Travel GPT", harness.ChatGPTCallback), other: e.CreateOAuthApp("Other GPT", harness.ChatGPTCallback)}
	e.CreateUser(harness.AliceEmail, harness.AlicePassword)
	e.CreateUser(bobEmail, bobPassword)
	e.SetMCP(env.app.AppID, true)
	e.SetMCP(env.other.AppID, true)
	harness.StartChild(t, e, "serve")
	e.Eventually("the API answers", func() bool {
		resp, err := http.Get(e.Base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return env
}

// signIn connects the Go SDK's client to appID's endpoint, registering
// itself as reg says and signing the user in through a browser; consent,
// when set, sees the consent page.
func (env *registrationEnv) signIn(t *testing.T, appID string, reg *auth.AuthorizationCodeHandlerConfig, email, password string,
	consent func(string)) (*mcp.ClientSession, error) {
	t.Helper()
	b := harness.NewBrowser(env.Deployment)
	b.OnConsent = consent
	reg.RedirectURL = clientCallback
	reg.AuthorizationCodeFetcher = func(_ context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		if env.signInsRefused.Load() {
			code, _, body := b.Get(args.URL)
			env.refusals <- fmt.Sprintf("%d %s", code, body)
			return nil, errors.New("the authorization server refused the sign-in")
		}
		cb := b.Follow(args.URL, clientCallback, email, password)
		q := cb.Query()
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
	handler, err := auth.NewAuthorizationCodeHandler(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-test", Version: "1"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: env.Base + "/mcp/" + appID, OAuthHandler: handler, MaxRetries: -1}, nil)
}

func dynamic(name string) *auth.AuthorizationCodeHandlerConfig {
	return &auth.AuthorizationCodeHandlerConfig{DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
		Metadata: &oauthex.ClientRegistrationMetadata{ClientName: name, RedirectURIs: []string{clientCallback},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none"}}}
}

func byDocument(url string) *auth.AuthorizationCodeHandlerConfig {
	return &auth.AuthorizationCodeHandlerConfig{ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: url}}
}

// TestRegisteredClients drives what a ChatGPT app or Claude connector does,
// with the Go SDK's OAuth client over real HTTP: 401 and discovery,
// registration (RFC 7591, then a Client ID Metadata Document), authorize with
// PKCE and resource, sign-in and consent, token, then every tool. The memory
// is the user's in the application, the one the GPT's token reaches; another
// user and another application see nothing; the operator lists the clients
// and revokes one, which ends its access at once.
func TestRegisteredClients(t *testing.T) {
	t.Parallel()
	env := newRegistrationEnv(t)

	var consentPage string
	s, err := env.signIn(t, env.app.AppID, dynamic("Agent Smith"), harness.AliceEmail, harness.AlicePassword,
		func(page string) { consentPage = page })
	if err != nil {
		t.Fatalf("the SDK's client, registering itself: %v", err)
	}
	defer s.Close()
	for _, want := range []string{"Agent Smith wants to use your memory in Travel GPT", "has not been verified", "127.0.0.1:7777"} {
		if !strings.Contains(consentPage, want) {
			t.Errorf("the consent page does not say %q:\n%s", want, consentPage)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if list, err := s.ListTools(ctx, nil); err != nil || len(list.Tools) != len(allTools) {
		t.Fatalf("tools/list through the registered client: %v %v", list, err)
	}
	got := ok(t, s, "remember", map[string]any{"content": "Alice's cat is called Miso"})
	if got["status"] != "succeeded" || len(ids(got)) != 1 {
		t.Fatalf("remember: %v", got)
	}
	id, _ := ids(got)[0].(string)
	if found := ok(t, s, "search_memories", map[string]any{"query": "cat"}); !hasMemory(found["results"], id) {
		t.Fatalf("search_memories: %v", found)
	}
	if op := ok(t, s, "get_operation", map[string]any{"operation_id": got["operation_id"]}); op["status"] != "succeeded" {
		t.Fatalf("get_operation: %v", op)
	}
	if page := ok(t, s, "list_memories", map[string]any{}); !hasMemory(page["memories"], id) {
		t.Fatalf("list_memories: %v", page)
	}
	if m := ok(t, s, "get_memory", map[string]any{"memory_id": id}); m["content"] != "Alice's cat is called Miso" {
		t.Fatalf("get_memory: %v", m)
	}

	// The same user through the GPT (the application's own client, at the API) sees that memory.
	o := &harness.OauthEnv{Deployment: env.Deployment, App: env.app}
	gpt := o.GrantTokens("memories:read memories:write")
	if code, _, page := env.Call("GET", "/api/v1/memories", gpt.AccessToken, nil); code != http.StatusOK || !hasMemory(page["memories"], id) {
		t.Fatalf("the GPT's token does not see the memory stored through MCP: %d %v", code, page)
	}

	// The same user by a metadata document: the same memory.
	docURL := env.docs.URL + "/client.json"
	consentPage = ""
	viaDoc, err := env.signIn(t, env.app.AppID, byDocument(docURL), harness.AliceEmail, harness.AlicePassword,
		func(page string) { consentPage = page })
	if err != nil {
		t.Fatalf("the SDK's client, by metadata document: %v", err)
	}
	defer viaDoc.Close()
	if !strings.Contains(consentPage, "Doc Agent wants to use your memory in Travel GPT") || !strings.Contains(consentPage, "described by <strong>"+strings.TrimPrefix(env.docs.URL, "https://")) {
		t.Errorf("the consent page for a metadata document:\n%s", consentPage)
	}
	if found := ok(t, viaDoc, "search_memories", map[string]any{"query": "cat"}); !hasMemory(found["results"], id) {
		t.Fatalf("search_memories by the document's client: %v", found)
	}

	// Another user, and the same user in another application, see nothing.
	bob, err := env.signIn(t, env.app.AppID, dynamic("Agent Smith"), bobEmail, bobPassword, nil)
	if err != nil {
		t.Fatalf("Bob signs in: %v", err)
	}
	defer bob.Close()
	elsewhere, err := env.signIn(t, env.other.AppID, dynamic("Agent Smith"), harness.AliceEmail, harness.AlicePassword, nil)
	if err != nil {
		t.Fatalf("Alice in another application: %v", err)
	}
	defer elsewhere.Close()
	for who, sess := range map[string]*mcp.ClientSession{"another user": bob, "another application": elsewhere} {
		if page := ok(t, sess, "list_memories", map[string]any{}); len(page["memories"].([]any)) != 0 {
			t.Errorf("%s sees memories: %v", who, page)
		}
		if found := ok(t, sess, "search_memories", map[string]any{"query": "cat"}); hasMemory(found["results"], id) {
			t.Errorf("%s finds Alice's memory: %v", who, found)
		}
	}

	// The remaining tools, through the registered client.
	follow := func(what string, acc map[string]any) {
		t.Helper()
		if acc["status"] != "pending" || acc["operation_id"] == nil {
			t.Fatalf("%s: %v", what, acc)
		}
		env.Eventually(what+" succeeds", func() bool {
			return ok(t, s, "get_operation", map[string]any{"operation_id": acc["operation_id"]})["status"] == "succeeded"
		})
	}
	follow("update_memory", ok(t, s, "update_memory", map[string]any{"memory_id": id, "content": "Alice's cat is called Mochi"}))
	if h := ok(t, s, "memory_history", map[string]any{"memory_id": id}); len(h["changes"].([]any)) < 2 {
		t.Fatalf("memory_history: %v", h)
	}
	follow("delete_memory", ok(t, s, "delete_memory", map[string]any{"memory_id": id}))
	ok(t, s, "remember", map[string]any{"content": "Alice flies to Lisbon in May"})
	follow("forget_everything", ok(t, s, "forget_everything", map[string]any{}))
	if code, _, page := env.Call("GET", "/api/v1/memories", gpt.AccessToken, nil); code != http.StatusOK || len(page["memories"].([]any)) != 0 {
		t.Fatalf("the GPT still sees memories after forget_everything through MCP: %d %v", code, page)
	}

	// The operator sees both clients, and revokes the registered one.
	out, err := env.RunCLI("apps", "clients", env.app.AppID)
	if err != nil {
		t.Fatalf("apps clients: %v %s", err, out)
	}
	var clients []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c map[string]any
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("apps clients line %q: %v", line, err)
		}
		clients = append(clients, c)
	}
	// In the order they first asked: Alice's registration, the document, Bob's registration.
	if len(clients) != 3 || clients[0]["client_name"] != "Agent Smith" || clients[0]["registration"] != "registered" ||
		clients[1]["client_name"] != "Doc Agent" || clients[1]["registration"] != "metadata-document" || clients[1]["client_id"] != docURL ||
		clients[2]["client_name"] != "Agent Smith" || clients[0]["verified"] != false || clients[0]["revoked"] != false {
		t.Fatalf("apps clients: %s", out)
	}
	alices := clients[0]["client_id"].(string)
	if out, err := env.RunCLI("apps", "revoke-client", env.app.AppID, alices); err != nil {
		t.Fatalf("apps revoke-client: %v %s", err, out)
	}
	env.signInsRefused.Store(true)
	if _, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "search_memories", Arguments: map[string]any{"query": "cat"}}); err == nil {
		t.Error("the revoked client's session still works")
	}
	// Its token was refused, so the SDK started over: a registration of its
	// own, a new client the user must consent to again (the fetcher stopped
	// it at the sign-in page). The revoked client itself is refused before
	// any page is shown.
	select {
	case got := <-env.refusals:
		if !strings.HasPrefix(got, "302 ") || !strings.Contains(got, "/oauth/login?id=") {
			t.Errorf("the SDK signing in again, registered anew: %s", got)
		}
	default:
		t.Error("the revoked client's token was not refused")
	}
	q := env.RegisteredAuthorizeQuery(alices, env.app.AppID, "again")
	if code, hdr, body := harness.NewBrowser(env.Deployment).Get("/oauth/authorize?" + q.Encode()); code != http.StatusBadRequest ||
		hdr.Get("Location") != "" || !strings.Contains(body, "unauthorized_client") || !strings.Contains(body, "revoked") {
		t.Errorf("the revoked client asking again: %d %q %s", code, hdr.Get("Location"), body)
	}
	if out, _ := env.RunCLI("apps", "clients", env.app.AppID); !strings.Contains(out, `"revoked":true`) {
		t.Errorf("apps clients after the revocation: %s", out)
	}
	// The other registrations keep working: the document's, and Bob's of the same name.
	for who, sess := range map[string]*mcp.ClientSession{"the document's client": viaDoc, "Bob's client": bob} {
		if _, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "list_memories", Arguments: map[string]any{}}); err != nil {
			t.Errorf("%s stopped working with another client's revocation: %v", who, err)
		}
	}
}
