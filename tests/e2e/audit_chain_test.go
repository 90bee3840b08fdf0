package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// verifyOutcome is one application's line of `audit verify`'s output.
type verifyOutcome struct {
	AppID  string `json:"app_id"`
	Links  int64  `json:"links_verified"`
	Intact bool   `json:"intact"`
	Break  *struct {
		EntryID int64  `json:"entry_id"`
		Link    int64  `json:"link"`
		Reason  string `json:"reason"`
	} `json:"first_mismatch"`
}

func auditVerify(t *testing.T, e *harness.Deployment, args ...string) ([]verifyOutcome, error) {
	t.Helper()
	out, err := e.RunCLI(append([]string{"audit", "verify"}, args...)...)
	var outcomes []verifyOutcome
	if jerr := json.Unmarshal([]byte(out), &outcomes); jerr != nil {
		t.Fatalf("audit verify printed %q (%v): %v", out, err, jerr)
	}
	return outcomes, err
}

// An audit trail written by the service verifies; each way of editing it
// with SQL, as someone with the database's password would, is found and the
// entry at fault named, while the other applications' chains stay intact.
func TestAuditChainFindsEditsMadeWithSQL(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	apps := map[string]harness.AppCreds{}
	for _, name := range []string{"edited", "deleted", "forged", "truncated", "untouched"} {
		apps[name] = e.CreateApp(name + " GPT")
	}
	e.Start("serve")

	// Each application: searches (batched reads), creates (pending, then
	// succeeded by the worker) and a refused request.
	for name, app := range apps {
		for i := range 3 {
			if code, _, body := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "q"}); code != http.StatusOK {
				t.Fatalf("search: %d %v", code, body)
			}
			e.Succeeded(app.APIKey, e.AcceptCreate(app.APIKey, fmt.Sprintf("%s memory %d", name, i)))
		}
		if code, _, _ := e.Call("GET", "/api/v1/memories/not-a-memory", app.APIKey, nil); code != http.StatusNotFound {
			t.Fatalf("get of a missing memory: %d", code)
		}
	}

	outcomes, err := auditVerify(t, e)
	if err != nil {
		t.Fatalf("audit verify of an untouched trail: %v", err)
	}
	if len(outcomes) != len(apps) {
		t.Fatalf("verified %d applications, want %d: %+v", len(outcomes), len(apps), outcomes)
	}
	for _, o := range outcomes {
		// 3 searches, 3 creates and a get: 7 entries, each ended once.
		if !o.Intact || o.Links != 7 {
			t.Fatalf("untouched chain: %+v", o)
		}
	}

	db := e.Pool()
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	entryOf := func(app harness.AppCreds, action string) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRow(ctx, `SELECT min(id) FROM custom_gpt_audit_entries WHERE app_id = $1 AND action = $2`,
			app.AppID, action).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}

	// A create's outcome rewritten: failed made to look succeeded, or the reverse.
	edited := entryOf(apps["edited"], "create_memory")
	exec(`UPDATE custom_gpt_audit_entries SET detail = 'nothing to see', end_user = 'someone-else' WHERE id = $1`, edited)
	// A search removed from the trail.
	deleted := entryOf(apps["deleted"], "search")
	exec(`DELETE FROM custom_gpt_audit_entries WHERE id = $1`, deleted)
	// An entry added with the triggers off, as a restore or a careful forger would.
	var forged int64
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO custom_gpt_audit_entries (app_id, action, status, request_id, occurred_at)
		VALUES ($1, 'search', 'succeeded', 'forged', now()) RETURNING id`, apps["forged"].AppID).Scan(&forged); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The newest link of one of its chains cut off, the entry it named with it.
	var (
		lastEntry, lastSeq int64
	)
	if err := db.QueryRow(ctx, `DELETE FROM custom_gpt_audit_chain WHERE (app_id, lane, seq) = (
			SELECT app_id, lane, seq FROM custom_gpt_audit_chain WHERE app_id = $1 ORDER BY id DESC LIMIT 1)
		RETURNING entry_id, seq`, apps["truncated"].AppID).Scan(&lastEntry, &lastSeq); err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM custom_gpt_audit_entries WHERE id = $1`, lastEntry)

	outcomes, err = auditVerify(t, e)
	if err == nil {
		t.Fatal("audit verify found nothing wrong in an edited trail")
	}
	want := map[string]struct {
		entry  int64
		reason string
	}{
		"edited":    {edited, "changed after it was written"},
		"deleted":   {deleted, "was deleted"},
		"forged":    {forged, "without a link"},
		"truncated": {0, fmt.Sprintf("head is at link %d", lastSeq)},
	}
	for _, o := range outcomes {
		var name string
		for n, a := range apps {
			if a.AppID == o.AppID {
				name = n
			}
		}
		w, broken := want[name]
		switch {
		case !broken && !o.Intact:
			t.Errorf("%s: untouched chain reported broken: %+v", name, o.Break)
		case broken && (o.Intact || o.Break == nil):
			t.Errorf("%s: edit not found", name)
		case broken && (o.Break.EntryID != w.entry || !strings.Contains(o.Break.Reason, w.reason)):
			t.Errorf("%s: first mismatch %+v, want entry %d %q", name, o.Break, w.entry, w.reason)
		}
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("entry %d", edited)) && !strings.Contains(err.Error(), fmt.Sprintf("entry %d", deleted)) &&
		!strings.Contains(err.Error(), fmt.Sprintf("entry %d", forged)) && !strings.Contains(err.Error(), fmt.Sprintf("link %d", lastSeq)) {
		t.Errorf("the error names no entry: %v", err)
	}

	// --app checks one application only.
	outcomes, err = auditVerify(t, e, "--app", apps["untouched"].AppID)
	if err != nil || len(outcomes) != 1 || !outcomes[0].Intact {
		t.Fatalf("audit verify --app of an untouched chain: %+v %v", outcomes, err)
	}
	if _, err := auditVerify(t, e, "--app", apps["edited"].AppID); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", edited)) {
		t.Fatalf("audit verify --app of the edited chain: %v", err)
	}
}
