package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// GET /privacy serves the built-in policy, or the operator's file when one is
// configured; a missing file stops the binary at start.
func TestPrivacyPolicy(t *testing.T) {
	t.Parallel()
	get := func(e *harness.Deployment) (int, string, string) {
		resp, err := http.Get(e.Base + "/privacy")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}

	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Start("api")
	code, ct, body := get(e)
	if code != http.StatusOK || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "What is stored") {
		t.Fatalf("default policy: %d %q %.80s", code, ct, body)
	}

	own := filepath.Join(t.TempDir(), "policy.txt")
	if err := os.WriteFile(own, []byte("Our own policy: we keep nothing for long."), 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := harness.NewDeployment(t, "embedded")
	e2.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e2.Vars["CUSTOM_GPT_PRIVACY_POLICY_FILE"] = own
	e2.Start("api")
	code, ct, body = get(e2)
	if code != http.StatusOK || !strings.HasPrefix(ct, "text/plain") || body != "Our own policy: we keep nothing for long." {
		t.Fatalf("operator's policy: %d %q %q", code, ct, body)
	}

	e3 := harness.NewDeployment(t, "embedded")
	e3.Vars["CUSTOM_GPT_PRIVACY_POLICY_FILE"] = filepath.Join(t.TempDir(), "missing.html")
	if _, err := e3.RunCLI("api"); err == nil || !strings.Contains(err.Error(), "CUSTOM_GPT_PRIVACY_POLICY_FILE") {
		t.Fatalf("a missing policy file: %v", err)
	}
}
