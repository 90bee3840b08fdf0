package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestCommandsRefuseAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	for _, cmd := range [][]string{{"serve"}, {"api"}, {"worker"}, {"apps", "list"}} {
		_, err := e.RunCLI(cmd...)
		if !errors.Is(err, postgres.ErrNotMigrated) || !strings.Contains(err.Error(), "custom-gpt-adapter migrate") {
			t.Fatalf("%v on an unmigrated database: %v", cmd, err)
		}
	}
	// A database that does not exist yet is the same story; migrate creates it.
	u, _ := url.Parse(e.Vars["CUSTOM_GPT_DATABASE_URL"])
	u.Path += "_missing"
	e.Vars["CUSTOM_GPT_DATABASE_URL"] = u.String()
	if _, err := e.RunCLI("apps", "list"); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("missing database: %v", err)
	}
	t.Cleanup(func() { harness.DropDatabase(t, e.Vars["CUSTOM_GPT_DATABASE_URL"]) })
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatalf("migrate of a missing database: %v", err)
	}
	if _, err := e.RunCLI("apps", "list"); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
}

func TestAutoMigrateStartsOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Start("serve")
	if code, _, body := e.Call("GET", "/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("readyz: %d %v", code, body)
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"CUSTOM_GPT_DATABASE_URL":       "not a url",
		"CUSTOM_GPT_REDIS_URL":          "http://localhost",
		"CUSTOM_GPT_STREAM_PREFIX":      "has spaces",
		"CUSTOM_GPT_MEMORY_BANK_URL":    "ftp://mem0",
		"CUSTOM_GPT_MEMORY_BANK_FLAVOR": "mem0-cloud",
		"CUSTOM_GPT_HTTP_ADDR":          "8080",
		"CUSTOM_GPT_ADMIN_TOKEN":        "short",
		"CUSTOM_GPT_AUTO_MIGRATE":       "yes please",
		"CUSTOM_GPT_LOG_LEVEL":          "loud",
		"CUSTOM_GPT_WORKER_CONCURRENCY": "0",
		"CUSTOM_GPT_WORKER_LEASE":       "-1s",
		"CUSTOM_GPT_RETRY_MAX":          "many",
		"CUSTOM_GPT_PUBLIC_URL":         "http://memory.example.com",
		"CUSTOM_GPT_SIGNING_ALG":        "HS256",
		"CUSTOM_GPT_ACCESS_TOKEN_TTL":   "forever",
		"CUSTOM_GPT_SECRETS_KEY":        "not base64",
		"CUSTOM_GPT_SECRETS_KEY_OLD":    "c2hvcnQ=", // 5 bytes
		"CUSTOM_GPT_INSECURE_DEV":       "maybe",
	}
	for name, value := range cases {
		for _, cmd := range []string{"serve", "migrate"} {
			env := map[string]string{name: value}
			_, err := harness.RunCLIWithOnly(env, cmd)
			if err == nil || !strings.Contains(err.Error(), name+":") {
				t.Errorf("%s=%q: %s error %v does not name the variable", name, value, cmd, err)
			}
		}
	}
}

func TestAppsLifecycle(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Lifecycle GPT")
	e.Start("api")
	if code, _, _ := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("new key: %d", code)
	}

	out, err := e.RunCLI("apps", "rotate-key", app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	var rotated harness.AppCreds
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.APIKey == "" || rotated.APIKey == app.APIKey {
		t.Fatalf("rotate-key printed %q", out)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("old key after rotation: %d", code)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", rotated.APIKey, map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("rotated key: %d", code)
	}

	if _, err := e.RunCLI("apps", "disable", app.AppID); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", rotated.APIKey, map[string]any{"query": "x"}); code != http.StatusForbidden {
		t.Fatalf("disabled app: %d", code)
	}
	out, err = e.RunCLI("apps", "list")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["status"] != "disabled" || list[0]["api_key"] != nil {
		t.Fatalf("apps list printed %q", out)
	}
	if _, err := e.RunCLI("apps", "disable", "no-such-app"); err == nil {
		t.Fatal("disabling an unknown app succeeded")
	}
	if _, err := e.RunCLI("apps", "create"); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("apps create without --name: %v", err)
	}
}

func TestAppsAreOAuthClients(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	out, err := e.RunCLI("apps", "create", "--name", "OAuth GPT",
		"--redirect-uri", "https://chat.openai.com/aip/g-1/oauth/callback",
		"--redirect-uri", "https://chatgpt.com/aip/g-1/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	secret, _ := created["client_secret"].(string)
	if created["client_id"] != created["app_id"] || !strings.HasPrefix(secret, "cgcs_") || len(created["redirect_uris"].([]any)) != 2 {
		t.Fatalf("apps create printed %s", out)
	}
	appID := created["app_id"].(string)

	if _, err := e.RunCLI("apps", "add-redirect-uri", appID, "http://example.com/insecure"); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("an http redirect URI was accepted: %v", err)
	}
	if _, err := e.RunCLI("apps", "add-redirect-uri", appID, "http://127.0.0.1:9999/callback"); err != nil {
		t.Fatal(err)
	}
	out, err = e.RunCLI("apps", "rotate-secret", appID)
	if err != nil || strings.Contains(out, secret) || !strings.Contains(out, `"client_secret":"cgcs_`) {
		t.Fatalf("rotate-secret printed %q (%v)", out, err)
	}
	out, err = e.RunCLI("apps", "list")
	if err != nil || strings.Contains(out, "cgcs_") || !strings.Contains(out, "http://127.0.0.1:9999/callback") {
		t.Fatalf("apps list printed %q (%v)", out, err)
	}
}
