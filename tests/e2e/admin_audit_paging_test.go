package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Paging the audit over HTTP, newest first, walks every entry exactly once,
// with or without an application filter, even while new entries arrive: the
// walk is the listing as it was when the walk began.
func TestAdminAuditPagingWalksEveryEntryOnce(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a, b := e.CreateApp("GPT A"), e.CreateApp("GPT B")
	e.Start("api") // searches only: each is audited as it is answered

	search := func(e *harness.Deployment, app harness.AppCreds, requestID string) {
		e.T.Helper()
		if code, _, body := e.CallWithRequestID("POST", "/api/v1/search", app.APIKey, requestID, map[string]any{"query": "q"}); code != http.StatusOK {
			e.T.Fatalf("search %s: %d %v", requestID, code, body)
		}
	}
	for i := range 23 {
		search(e, a, fmt.Sprintf("a-%d", i))
		if i < 17 {
			search(e, b, fmt.Sprintf("b-%d", i))
		}
	}
	late := 0
	arrive := func(e *harness.Deployment) { // entries written while a walk is under way
		for range 3 {
			search(e, a, fmt.Sprintf("late-%d", late))
			late++
		}
	}

	for _, tc := range []struct {
		name   string
		filter url.Values
		limit  int
		app    string // every entry's, when filtered
		want   int    // searches of the filter written before the walk
	}{
		{"all applications", url.Values{}, 7, "", 23 + 17},
		{"one application", url.Values{"app_id": {a.AppID}}, 5, a.AppID, 23},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ForTest(t)
			snapshot, next := e.AuditPage(url.Values{"limit": {"500"}, "app_id": tc.filter["app_id"]})
			if next != "" {
				t.Fatalf("more than 500 entries: %d", len(snapshot))
			}
			walk := e.WalkAudit(tc.filter, tc.limit, func() { arrive(e) })
			if !slices.Equal(walk, snapshot) {
				t.Fatalf("the walk in pages of %d differs from the listing it began with:\n walk %v\nbegan %v", tc.limit, walk, snapshot)
			}
			searches := 0
			for i, x := range walk {
				if i > 0 && x.Id >= walk[i-1].Id {
					t.Fatalf("entry %d (id %d) after id %d: not newest first", i, x.Id, walk[i-1].Id)
				}
				if tc.app != "" && x.App != tc.app {
					t.Fatalf("the walk filtered by %s holds %+v", tc.app, x)
				}
				if strings.HasPrefix(x.CorrelID, "a-") || strings.HasPrefix(x.CorrelID, "b-") {
					searches++
				}
			}
			if searches != tc.want {
				t.Fatalf("the walk holds %d of the %d searches", searches, tc.want)
			}
		})
	}
	// The entries that arrived during the walks are there, newer than all.
	after, _ := e.AuditPage(url.Values{"app_id": {a.AppID}, "limit": {strconv.Itoa(late)}})
	for _, x := range after {
		if !strings.HasPrefix(x.CorrelID, "late-") {
			t.Fatalf("the newest entries of A are %+v, want the %d that arrived during the walks", after, late)
		}
	}
}
