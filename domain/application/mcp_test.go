package application_test

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

func newMCPApp(t *testing.T) *application.Application {
	t.Helper()
	a, err := application.New("app-1", "Travel GPT", application.HashAPIKey("cgpt_x"), t0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The default policy lets in the connectors of ChatGPT and Claude and
// loopback callbacks, and nothing else until a host is allowed.
func TestAllowsMCPRedirect(t *testing.T) {
	t.Parallel()
	a := newMCPApp(t)
	for uri, want := range map[string]bool{
		"https://chatgpt.com/connector/oauth/abc123":            true,
		"https://chatgpt.com/connector_platform_oauth_redirect": true,
		"https://claude.ai/api/mcp/auth_callback":               true,
		"https://claude.com/api/mcp/auth_callback":              true,
		"http://127.0.0.1:33418/":                               true,
		"http://localhost:8080/callback":                        true,
		"http://[::1]:9000/cb":                                  true,
		"https://chatgpt.com/connector/oauth/":                  false,
		"https://chatgpt.com/connector/oauth/a/b":               false,
		"https://chatgpt.com/connector/oauth/a?x=1":             false,
		"https://chatgpt.com.evil.example/connector/oauth/abc":  false,
		"https://claude.ai/api/mcp/auth_callback/../x":          false,
		"https://claude.ai/api/mcp/auth_callback#x":             false,
		"https://user@claude.ai/api/mcp/auth_callback":          false,
		"https://vscode.dev/redirect":                           false,
		"cursor://anysphere.cursor-mcp/oauth/callback":          false,
	} {
		if got := a.AllowsMCPRedirect(uri); got != want {
			t.Errorf("default policy, %s: %v, want %v", uri, got, want)
		}
	}
	if err := a.AllowMCPRedirectHosts([]string{"VSCode.dev", "cursor://anysphere.cursor-mcp"}, t0); err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]bool{
		"https://vscode.dev/redirect":                  true,
		"http://vscode.dev/redirect":                   false,
		"https://sub.vscode.dev/redirect":              false,
		"cursor://anysphere.cursor-mcp/oauth/callback": true,
		"cursor://other.cursor-mcp/oauth/callback":     false,
	} {
		if got := a.AllowsMCPRedirect(uri); got != want {
			t.Errorf("with hosts, %s: %v, want %v", uri, got, want)
		}
	}
	if hosts := a.MCPRedirectHosts(); len(hosts) != 2 || hosts[0] != "vscode.dev" {
		t.Errorf("hosts: %v", hosts)
	}
	a.ClearMCPRedirectHosts(t0)
	if a.AllowsMCPRedirect("https://vscode.dev/redirect") || len(a.MCPRedirectHosts()) != 0 {
		t.Error("cleared hosts still allowed")
	}
}

func TestAllowMCPRedirectHostsRefusesWhatIsNotAHost(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "https://vscode.dev", "vscode.dev/path", "user@vscode.dev", "javascript://x",
		"http://x.example", "a b", "vscode.dev?x", "custom://"} {
		a := newMCPApp(t)
		err := a.AllowMCPRedirectHosts([]string{bad}, t0)
		if errs.KindOf(err) != errs.KindInvalid || len(a.MCPRedirectHosts()) != 0 {
			t.Errorf("%q: %v, hosts %v", bad, err, a.MCPRedirectHosts())
		}
	}
	a := newMCPApp(t)
	many := make([]string, application.MaxMCPRedirectHosts+1)
	for i := range many {
		many[i] = string(rune('a'+i)) + ".example"
	}
	if err := a.AllowMCPRedirectHosts(many, t0); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("too many hosts: %v", err)
	}
}
