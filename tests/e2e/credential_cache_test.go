package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// With the default credential cache (1 s), a disabled application's key
// keeps working for at most about that long, then is refused: the bound
// README states. The margin covers a loaded machine, not a longer cache.
func TestCredentialCacheBound(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	delete(e.Vars, "CUSTOM_GPT_CREDENTIAL_CACHE_TTL") // the default
	app := e.CreateApp("Cached GPT")
	e.Start("serve")
	search := func() int {
		code, _, _ := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
		return code
	}
	if code := search(); code != http.StatusOK {
		t.Fatalf("search before the disable: %d", code)
	}
	if out, err := e.RunCLI("apps", "disable", app.AppID); err != nil {
		t.Fatalf("disable: %v %s", err, out)
	}
	disabled := time.Now()
	e.Eventually("the disabled key is refused", func() bool { return search() == http.StatusForbidden })
	if took := time.Since(disabled); took > 3*time.Second {
		t.Errorf("the disabled key was honoured for %s, past the 1 s cache (and a 2 s margin)", took)
	}
}
