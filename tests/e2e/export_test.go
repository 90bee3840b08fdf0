package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// An application exports everything it stored, more than any page holds, each
// memory with its history, and nothing of another application's; the export
// is audited.
func TestExportHoldsEveryMemoryWithItsHistory(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a, other := e.CreateApp("Exporting GPT"), e.CreateApp("Other GPT")
	e.Start("serve")

	const n = 230 // over two pages of the export and of the list
	var ops []string
	for i := range n {
		ops = append(ops, e.AcceptCreate(a.APIKey, fmt.Sprintf("fact number %d", i)))
	}
	e.Succeeded(other.APIKey, e.AcceptCreate(other.APIKey, "not yours"))
	var corrected string
	for i, op := range ops {
		got := e.Succeeded(a.APIKey, op)
		if i == 7 {
			corrected = got["memory_ids"].([]any)[0].(string)
		}
	}
	e.Succeeded(a.APIKey, e.Accept("PATCH", "/api/v1/memories/"+corrected, a.APIKey, map[string]any{"content": "fact number 7, corrected"}))

	x := e.Export(a.APIKey)
	if !x.Complete || x.AppID != a.AppID || x.EndUser != "" || len(x.Memories) != n {
		t.Fatalf("export: complete %v, app %s, %d memories (%s)", x.Complete, x.AppID, len(x.Memories), x.Error)
	}
	seen := map[string]bool{}
	for _, m := range x.Memories {
		if seen[m.Content] || m.Content == "not yours" {
			t.Fatalf("memory %q exported twice or from another app", m.Content)
		}
		seen[m.Content] = true
		if m.MemoryID == corrected {
			h := m.History
			if m.Content != "fact number 7, corrected" || len(h) != 2 || h[0].Event != "ADD" || h[1].Event != "UPDATE" ||
				h[1].OldContent != "fact number 7" || h[1].NewContent != "fact number 7, corrected" {
				t.Fatalf("the corrected memory was exported as %+v", m)
			}
		} else if len(m.History) != 1 || m.History[0].Event != "ADD" {
			t.Fatalf("memory %q has history %+v", m.Content, m.History)
		}
	}
	var audited int
	if err := e.Pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_audit_entries
		WHERE app_id = $1 AND action = 'export_memories' AND status = 'succeeded'`, a.AppID).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("%d export audit entries (%v)", audited, err)
	}
}

// An end user's export holds only their own memories; the account page and
// an operator's `users export` hold the user's memories in every application
// they use, and nobody else's.
func TestEndUserExportAndTheOperatorsExport(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	gptA, gptB := e.CreateOAuthApp("GPT A", harness.ChatGPTCallback), e.CreateOAuthApp("GPT B", harness.ChatGPTCallback)
	alice := e.CreateUser("alice@example.com", "password-of-alice")
	e.CreateUser("bob@example.com", "password-of-bob")
	e.Start("serve")
	browsers := map[string]*harness.Browser{"alice": harness.NewBrowser(e), "bob": harness.NewBrowser(e)}
	tokenFor := func(app harness.OauthApp, who string) string {
		cb := browsers[who].Authorize(harness.AuthorizeQuery(app, "s"), who+"@example.com", "password-of-"+who)
		status, _, tok := e.Token(app, true, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {harness.ChatGPTCallback}})
		if status != http.StatusOK {
			t.Fatalf("token: %d %+v", status, tok)
		}
		return tok.AccessToken
	}
	aliceA, aliceB, bobA := tokenFor(gptA, "alice"), tokenFor(gptB, "alice"), tokenFor(gptA, "bob")
	e.Succeeded(aliceA, e.AcceptCreate(aliceA, "alice told GPT A"))
	e.Succeeded(aliceB, e.AcceptCreate(aliceB, "alice told GPT B"))
	e.Succeeded(bobA, e.AcceptCreate(bobA, "bob told GPT A"))

	if x := e.Export(aliceA); !x.Complete || x.EndUser != alice || len(x.Memories) != 1 || x.Memories[0].Content != "alice told GPT A" {
		t.Fatalf("alice's export through GPT A: %+v", x)
	}

	out, err := e.RunCLI("users", "export", "--email", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, page := browsers["alice"].Get("/oauth/account/export")
	if code != http.StatusOK || hdr.Get("Content-Disposition") == "" {
		t.Fatalf("the account page's download: %d %v", code, hdr)
	}
	if code, hdr, _ := harness.NewBrowser(e).Get("/oauth/account/export"); code != http.StatusSeeOther || hdr.Get("Location") != "/oauth/account" {
		t.Fatalf("the download without a session: %d %v", code, hdr)
	}
	for _, doc := range []string{out, page} {
		checkAlicesExport(t, doc, alice, gptA.AppID, gptB.AppID)
	}
	if _, err := e.RunCLI("users", "export", "--email", "nobody@example.com"); err == nil {
		t.Fatal("exporting an unknown user succeeded")
	}
}

// checkAlicesExport checks a whole-user export holds alice's two memories,
// one per GPT.
func checkAlicesExport(t *testing.T, out, alice, appA, appB string) {
	t.Helper()
	var all struct {
		UserID       string               `json:"user_id"`
		Email        string               `json:"email"`
		Applications []harness.ExportJSON `json:"applications"`
		Complete     bool                 `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("the export %q: %v", out, err)
	}
	got := map[string]string{}
	for _, app := range all.Applications {
		if !app.Complete || len(app.Memories) != 1 {
			t.Fatalf("application %+v", app)
		}
		got[app.AppID] = app.Memories[0].Content
	}
	if all.UserID != alice || all.Email != "alice@example.com" || !all.Complete || len(got) != 2 ||
		got[appA] != "alice told GPT A" || got[appB] != "alice told GPT B" {
		t.Fatalf("alice's whole export: %+v", all)
	}
}
