package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// auditEntryRef is what a paging test needs of an audit entry.
type auditEntryRef struct {
	id            int64
	app, correlID string
}

// auditPage reads one page of /admin/v1/audit.
func (e *env) auditPage(query url.Values) (entries []auditEntryRef, next string) {
	e.t.Helper()
	code, _, page := e.call("GET", "/admin/v1/audit?"+query.Encode(), adminToken, nil)
	if code != http.StatusOK {
		e.t.Fatalf("audit %s: %d %v", query.Encode(), code, page)
	}
	for _, x := range page["entries"].([]any) {
		m := x.(map[string]any)
		id, err := strconv.ParseInt(fmt.Sprint(m["id"]), 10, 64)
		if err != nil {
			e.t.Fatalf("audit entry id %v: %v", m["id"], err)
		}
		entries = append(entries, auditEntryRef{id: id, app: fmt.Sprint(m["app_id"]), correlID: fmt.Sprint(m["correlation_id"])})
	}
	next, _ = page["next_cursor"].(string)
	return entries, next
}

// walkAudit follows next_cursor from the first page of filter, pages of
// limit, calling between after the first page. It checks every page but the
// last is full and the last has no cursor.
func (e *env) walkAudit(filter url.Values, limit int, between func()) []auditEntryRef {
	e.t.Helper()
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for k, v := range filter {
		q[k] = v
	}
	var all []auditEntryRef
	for page := 1; ; page++ {
		entries, next := e.auditPage(q)
		all = append(all, entries...)
		if next == "" {
			if len(entries) > limit {
				e.t.Fatalf("last page %d holds %d entries, over the limit of %d", page, len(entries), limit)
			}
			return all
		}
		if len(entries) != limit {
			e.t.Fatalf("page %d holds %d entries and a cursor, want a full page of %d", page, len(entries), limit)
		}
		if page == 1 {
			between()
		}
		q.Set("cursor", next)
	}
}

// Paging the audit over HTTP, newest first, walks every entry exactly once,
// with or without an application filter, even while new entries arrive: the
// walk is the listing as it was when the walk began.
func TestAdminAuditPagingWalksEveryEntryOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a, b := e.createApp("GPT A"), e.createApp("GPT B")
	e.start("api") // searches only: each is audited as it is answered

	search := func(e *env, app appCreds, requestID string) {
		e.t.Helper()
		if code, _, body := e.callWithRequestID("POST", "/api/v1/search", app.APIKey, requestID, map[string]any{"query": "q"}); code != http.StatusOK {
			e.t.Fatalf("search %s: %d %v", requestID, code, body)
		}
	}
	for i := range 23 {
		search(e, a, fmt.Sprintf("a-%d", i))
		if i < 17 {
			search(e, b, fmt.Sprintf("b-%d", i))
		}
	}
	late := 0
	arrive := func(e *env) { // entries written while a walk is under way
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
			e := e.forTest(t)
			snapshot, next := e.auditPage(url.Values{"limit": {"500"}, "app_id": tc.filter["app_id"]})
			if next != "" {
				t.Fatalf("more than 500 entries: %d", len(snapshot))
			}
			walk := e.walkAudit(tc.filter, tc.limit, func() { arrive(e) })
			if !slices.Equal(walk, snapshot) {
				t.Fatalf("the walk in pages of %d differs from the listing it began with:\n walk %v\nbegan %v", tc.limit, walk, snapshot)
			}
			searches := 0
			for i, x := range walk {
				if i > 0 && x.id >= walk[i-1].id {
					t.Fatalf("entry %d (id %d) after id %d: not newest first", i, x.id, walk[i-1].id)
				}
				if tc.app != "" && x.app != tc.app {
					t.Fatalf("the walk filtered by %s holds %+v", tc.app, x)
				}
				if strings.HasPrefix(x.correlID, "a-") || strings.HasPrefix(x.correlID, "b-") {
					searches++
				}
			}
			if searches != tc.want {
				t.Fatalf("the walk holds %d of the %d searches", searches, tc.want)
			}
		})
	}
	// The entries that arrived during the walks are there, newer than all.
	after, _ := e.auditPage(url.Values{"app_id": {a.AppID}, "limit": {strconv.Itoa(late)}})
	for _, x := range after {
		if !strings.HasPrefix(x.correlID, "late-") {
			t.Fatalf("the newest entries of A are %+v, want the %d that arrived during the walks", after, late)
		}
	}
}
