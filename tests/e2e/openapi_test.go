package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestOpenAPIDocument loads the served document, validates it as OpenAPI 3.1
// and checks the limits GPT Actions set (../shared/gpt-actions.md).
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	public := "http://127.0.0.1:" + strings.Split(e.Vars["CUSTOM_GPT_HTTP_ADDR"], ":")[1]
	e.Vars["CUSTOM_GPT_PUBLIC_URL"] = public + "/"
	if out, err := e.RunCLI("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	e.Start("serve")

	raw := get(t, e.Base+"/openapi.json", "application/json")
	v, err := newDocumentValidator(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("invalid OpenAPI 3.1: %v", e)
		}
	}

	// The check every component test's answers go through does catch a
	// response that breaks its schema.
	bad := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"memories":"none","truncated":"no"}`))}
	if responseProblems(v, mustRequest(e.Base+"/api/v1/memories"), bad) == "" {
		t.Error("a list answer that breaks its schema passed validation")
	}
	// And it refuses a problem status the operation does not declare.
	d, err := parseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	post, _ := http.NewRequest(http.MethodPost, e.Base+"/api/v1/memories", nil)
	if declaresStatus(d.model, mustRequest(e.Base+"/api/v1/memories"), http.StatusConflict) || !declaresStatus(d.model, post, http.StatusConflict) {
		t.Error("a 409 is declared by listMemories or not by createMemory")
	}

	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var fromYAML map[string]any
	if err := yaml.Unmarshal(get(t, e.Base+"/openapi.yaml", "application/yaml"), &fromYAML); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if fromYAML["openapi"] != doc["openapi"] || len(fromYAML["paths"].(map[string]any)) != len(doc["paths"].(map[string]any)) {
		t.Errorf("openapi.yaml is not the document of openapi.json")
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", v)
	}

	servers, _ := doc["servers"].([]any)
	if len(servers) == 0 {
		t.Fatal("no servers")
	}
	server := servers[0].(map[string]any)["url"].(string)
	if server != public {
		t.Errorf("servers[0].url %q, want CUSTOM_GPT_PUBLIC_URL %q", server, public)
	}
	if u, err := url.Parse(server); err != nil || !(u.Scheme == "https" || u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost") {
		t.Errorf("servers[0].url %q is neither https nor loopback", server)
	}

	schemes := dig(doc, "components", "securitySchemes")
	flow := dig(schemes, "oauth2", "flows", "authorizationCode")
	if flow["authorizationUrl"] != public+"/oauth/authorize" || flow["tokenUrl"] != public+"/oauth/token" {
		t.Errorf("oauth2 flow %v", flow)
	}
	if scopes := dig(flow, "scopes"); scopes["memories:read"] == nil || scopes["memories:write"] == nil {
		t.Errorf("oauth2 scopes %v", scopes)
	}
	if bearer := dig(schemes, "apiKey"); bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("API key scheme %v", bearer)
	}

	ids := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s: operationId %q missing or repeated", where, id)
			}
			ids[id] = true
			for _, k := range []string{"summary", "description"} {
				s, _ := op[k].(string)
				if s == "" || utf8.RuneCountInString(s) > 300 {
					t.Errorf("%s: %s of %d characters, want 1..300", where, k, utf8.RuneCountInString(s))
				}
			}
			want := method != "get" && method != "post"
			if c, ok := op["x-openai-isConsequential"].(bool); !ok || c != want {
				t.Errorf("%s: x-openai-isConsequential %v, want %v", where, op["x-openai-isConsequential"], want)
			}
			if op["security"] == nil {
				t.Errorf("%s: no security", where)
			}
			idempotencyKey := false
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := p.(map[string]any)
				d, _ := p["description"].(string)
				if d == "" || utf8.RuneCountInString(d) > 700 {
					t.Errorf("%s: parameter %v description of %d characters, want 1..700", where, p["name"], utf8.RuneCountInString(d))
				}
				if p["example"] == nil && p["examples"] == nil {
					t.Errorf("%s: parameter %v has no example", where, p["name"])
				}
				idempotencyKey = idempotencyKey || p["name"] == "Idempotency-Key"
			}
			if method != "get" && !idempotencyKey { // every POST, PATCH and DELETE takes one
				t.Errorf("%s: Idempotency-Key not documented", where)
			}
			if !strings.Contains(string(mustJSON(op["responses"])), "$ref") {
				t.Errorf("%s: responses without schemas", where)
			}
		}
	}
	if len(ids) < 9 {
		t.Errorf("%d operations, want at least 9", len(ids))
	}
	// Every schema property carries an example, so that the model sees one.
	for name, s := range dig(doc, "components", "schemas") {
		for prop, p := range dig(s.(map[string]any), "properties") {
			p := p.(map[string]any)
			if p["examples"] == nil && p["items"] == nil && p["$ref"] == nil {
				t.Errorf("schema %s.%s has no example", name, prop)
			}
		}
	}
}

func get(t *testing.T, url, contentType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return body
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
