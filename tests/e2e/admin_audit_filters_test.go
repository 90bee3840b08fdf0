package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// The admin audit listing filters by operation, status and time, names the
// parameter at fault in a problem, and exports what a filter selects as JSON
// Lines, oldest first, past any page size.
func TestAdminAuditFiltersAndExport(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a, b := e.CreateApp("GPT A"), e.CreateApp("GPT B")
	e.Start("serve")

	before := time.Now().UTC()
	const searches = 510 // more than one page of the export
	for i := range searches {
		if code, _, body := e.CallWithRequestID("POST", "/api/v1/search", a.APIKey, fmt.Sprintf("s-%d", i), map[string]any{"query": "q"}); code != http.StatusOK {
			t.Fatalf("search: %d %v", code, body)
		}
	}
	created := e.AcceptCreate(a.APIKey, "a memory")
	e.Succeeded(a.APIKey, created)
	if code, _, _ := e.Call("GET", "/api/v1/memories/not-a-memory", a.APIKey, nil); code != http.StatusNotFound {
		t.Fatalf("get of a missing memory: %d", code)
	}
	if code, _, _ := e.Call("POST", "/api/v1/search", b.APIKey, map[string]any{"query": "q"}); code != http.StatusOK {
		t.Fatal("search of B")
	}

	list := func(q url.Values) []map[string]any {
		t.Helper()
		code, _, body := e.Call("GET", "/admin/v1/audit?"+q.Encode(), harness.AdminToken, nil)
		if code != http.StatusOK {
			t.Fatalf("audit %v: %d %v", q, code, body)
		}
		var out []map[string]any
		for _, x := range body["entries"].([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	created1 := list(url.Values{"app_id": {a.AppID}, "operation": {"create_memory"}})
	if len(created1) != 1 || created1[0]["operation_id"] != created || created1[0]["status"] != "succeeded" {
		t.Fatalf("operation=create_memory: %v", created1)
	}
	if failed := list(url.Values{"app_id": {a.AppID}, "status": {"failed"}}); len(failed) != 1 || failed[0]["operation"] != "get_memory" {
		t.Fatalf("status=failed: %v", failed)
	}
	if none := list(url.Values{"app_id": {a.AppID}, "until": {before.Format(time.RFC3339Nano)}}); len(none) != 0 {
		t.Fatalf("until before anything happened: %v", none)
	}
	if got := list(url.Values{"app_id": {b.AppID}, "since": {before.Format(time.RFC3339Nano)}}); len(got) != 1 {
		t.Fatalf("since, app B: %v", got)
	}

	for _, c := range []struct{ query, field string }{
		{"operation=shopping", "operation"},
		{"status=done", "status"},
		{"since=yesterday", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-12-07T00:00:00Z&until=2026-12-06T00:00:00Z", "until"},
	} {
		for _, path := range []string{"/admin/v1/audit?", "/admin/v1/audit/export?"} {
			code, h, body := e.Call("GET", path+c.query, harness.AdminToken, nil)
			if code != http.StatusUnprocessableEntity || h.Get("Content-Type") != "application/problem+json" || body["field"] != c.field {
				t.Errorf("%s%s: %d %s %v, want a problem naming %s", path, c.query, code, h.Get("Content-Type"), body, c.field)
			}
		}
	}

	// The export: every search of A, oldest first, one JSON object a line.
	req, _ := http.NewRequest("GET", e.Base+"/admin/v1/audit/export?"+url.Values{"app_id": {a.AppID}, "operation": {"search"}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+harness.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jsonl" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	n := 0
	for lines.Scan() {
		var entry map[string]any
		if err := json.Unmarshal(lines.Bytes(), &entry); err != nil {
			t.Fatalf("line %d is not JSON: %q", n+1, lines.Text())
		}
		if want := fmt.Sprintf("s-%d", n); entry["correlation_id"] != want || entry["app_id"] != a.AppID || entry["operation"] != "search" {
			t.Fatalf("line %d: %v, want the search %s", n+1, entry, want)
		}
		n++
	}
	if err := lines.Err(); err != nil || n != searches {
		t.Fatalf("export has %d lines (%v), want %d", n, err, searches)
	}
	// Without the admin token there is nothing to export.
	if code, _, _ := e.Call("GET", "/admin/v1/audit/export", a.APIKey, nil); code != http.StatusUnauthorized {
		t.Fatalf("export with an API key: %d", code)
	}
}
