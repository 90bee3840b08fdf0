package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Memories of (app A, user X) are never visible to (app A, user Y) or to app B,
// whatever the request says: search, operations and audit.
func TestEndUsersAndAppsAreIsolated(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-platform")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	appA := e.CreateOAuthApp("GPT A", harness.ChatGPTCallback)
	appB := e.CreateOAuthApp("GPT B", harness.ChatGPTCallback)
	users := map[string]string{"x": e.CreateUser("x@example.com", "password-of-user-x"), "y": e.CreateUser("y@example.com", "password-of-user-y")}
	e.Start("serve")

	tokenFor := func(app harness.OauthApp, who string) string {
		b := harness.NewBrowser(e)
		cb := b.Authorize(harness.AuthorizeQuery(app, "s"), who+"@example.com", "password-of-user-"+who)
		status, _, tok := e.Token(app, true, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {harness.ChatGPTCallback}})
		if status != http.StatusOK {
			t.Fatalf("token for %s at %s: %d %+v", who, app.AppID, status, tok)
		}
		return tok.AccessToken
	}
	callers := map[string]string{
		"A/x": tokenFor(appA, "x"), "A/y": tokenFor(appA, "y"), "B/x": tokenFor(appB, "x"),
	}
	ops := map[string]string{}
	for who, tok := range callers {
		code, _, body := e.Call("POST", "/api/v1/memories", tok, map[string]any{"content": "secret diary of " + who + " about zebras"})
		if code != http.StatusAccepted {
			t.Fatalf("%s create: %d %v", who, code, body)
		}
		ops[who] = body["operation_id"].(string)
	}
	for who, tok := range callers {
		e.Eventually(who+"'s memory is stored", func() bool { return e.OperationStatus(tok, ops[who]) == "succeeded" })
	}
	for who, tok := range callers {
		code, _, body := e.Call("POST", "/api/v1/search", tok, map[string]any{"query": "secret diary zebras", "limit": 50})
		results := body["results"].([]any)
		if code != http.StatusOK || len(results) != 1 || !strings.Contains(results[0].(map[string]any)["content"].(string), "of "+who+" ") {
			t.Fatalf("%s sees %v", who, results)
		}
		for other, op := range ops {
			want := http.StatusNotFound
			if other == who {
				want = http.StatusOK
			}
			if code, _, _ := e.Call("GET", "/api/v1/operations/"+op, tok, nil); code != want {
				t.Fatalf("%s reading %s's operation: %d, want %d", who, other, code, want)
			}
		}
	}
	// The Memory Bank holds each under its own pinned scope.
	for _, m := range e.Bank.Memories() {
		var who string
		fmt.Sscanf(m.Memory[strings.Index(m.Memory, "of ")+3:], "%s", &who)
		app, user := appA, users[strings.Split(who, "/")[1]]
		if strings.HasPrefix(who, "B") {
			app = appB
		}
		if m.AgentID != "custom_gpt:"+app.AppID || m.UserID != app.AppID+":"+user {
			t.Fatalf("memory %q stored under %s / %s", m.Memory, m.AgentID, m.UserID)
		}
	}
	// The audit names the end user of every call.
	_, _, audit := e.Call("GET", "/admin/v1/audit?app_id="+appA.AppID, harness.AdminToken, nil)
	seen := map[string]bool{}
	for _, x := range audit["entries"].([]any) {
		seen[x.(map[string]any)["end_user"].(string)] = true
	}
	if !seen[users["x"]] || !seen[users["y"]] || len(seen) != 2 {
		t.Fatalf("audit of app A names end users %v", seen)
	}

	// Disabling a user ends their tokens at once.
	if _, err := e.RunCLI("users", "disable", "y@example.com"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", callers["A/y"], map[string]any{"query": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("a disabled user's token: %d", code)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", callers["A/x"], map[string]any{"query": "x"}); code != http.StatusOK {
		t.Fatalf("another user's token after the disable: %d", code)
	}
}
