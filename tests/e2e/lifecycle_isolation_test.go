package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Two ChatGPT users of one GPT: every lifecycle endpoint keeps each to their own
// memories, whatever memory id the other sends.
func TestLifecycleIsolatesEndUsersOfOneApp(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateOAuthApp("Shared GPT", harness.ChatGPTCallback)
	e.CreateUser("x@example.com", "password-of-user-x")
	e.CreateUser("y@example.com", "password-of-user-y")
	e.Start("serve")
	token := func(who string) string {
		cb := harness.NewBrowser(e).Authorize(harness.AuthorizeQuery(app, "s"), who+"@example.com", "password-of-user-"+who)
		_, _, tok := e.Token(app, true, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {harness.ChatGPTCallback}})
		return tok.AccessToken
	}
	x, y := token("x"), token("y")

	code, _, body := e.Call("POST", "/api/v1/memories", x, map[string]any{"content": "x keeps a spare key under the mat"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	e.Eventually("x's memory is stored", func() bool { return e.OperationStatus(x, opID) == "succeeded" })
	_, _, op := e.Call("GET", "/api/v1/operations/"+opID, x, nil)
	memID := op["memory_ids"].([]any)[0].(string)

	if code, _, _ := e.Call("GET", "/api/v1/memories/"+memID, x, nil); code != http.StatusOK {
		t.Fatalf("x reads their memory: %d", code)
	}
	for _, path := range []string{"/api/v1/memories/" + memID, "/api/v1/memories/" + memID + "/history"} {
		if code, _, _ := e.Call("GET", path, y, nil); code != http.StatusNotFound {
			t.Fatalf("y GET %s: %d", path, code)
		}
	}
	code, _, list := e.Call("GET", "/api/v1/memories", y, nil)
	if code != http.StatusOK || len(list["memories"].([]any)) != 0 {
		t.Fatalf("y's list: %d %v", code, list)
	}
	// y's change and delete of x's memory are not found at once: the memory of
	// another user is never touched, and nothing is accepted.
	for method, req := range map[string]any{"PATCH": map[string]any{"content": "hijacked"}, "DELETE": nil} {
		code, _, body := e.Call(method, "/api/v1/memories/"+memID, y, req)
		if code != http.StatusNotFound || body["type"] != "urn:custom-gpt-adapter:problem:memory-not-found" {
			t.Fatalf("y %s: %d %v", method, code, body)
		}
	}
	code, _, body = e.Call("DELETE", "/api/v1/memories", y, nil)
	if code != http.StatusAccepted {
		t.Fatalf("y forgets everything: %d %v", code, body)
	}
	forget := body["operation_id"].(string)
	e.Eventually("y's forget finishes", func() bool { return e.OperationStatus(y, forget) == "succeeded" })
	_, _, fo := e.Call("GET", "/api/v1/operations/"+forget, y, nil)
	if fo["removed"] != float64(0) {
		t.Fatalf("y's forget removed %v", fo["removed"])
	}
	code, _, mem := e.Call("GET", "/api/v1/memories/"+memID, x, nil)
	if code != http.StatusOK || mem["content"] != "x keeps a spare key under the mat" {
		t.Fatalf("x's memory after y's attempts: %d %v", code, mem)
	}
}
