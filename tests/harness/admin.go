package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

type DeadLetterJSON struct {
	MessageID     string `json:"message_id"`
	Command       string `json:"command"`
	OperationID   string `json:"operation_id"`
	AppID         string `json:"app_id"`
	Reason        string `json:"reason"`
	OriginalTopic string `json:"original_topic"`
	ParkedAt      string `json:"parked_at"`
}

func (e *Deployment) DlqList() []DeadLetterJSON {
	e.T.Helper()
	out, err := e.RunCLI("dlq", "list")
	if err != nil {
		e.T.Fatalf("dlq list: %v", err)
	}
	var list []DeadLetterJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.T.Fatalf("dlq list printed %q: %v", out, err)
	}
	return list
}

type RewrapOut struct {
	KeyID     string `json:"key_id"`
	Rewrapped int    `json:"rewrapped"`
	Encrypted int    `json:"encrypted"`
	Unchanged int    `json:"unchanged"`
}

func (e *Deployment) Rewrap() RewrapOut {
	e.T.Helper()
	out, err := e.RunCLI("keys", "rewrap")
	if err != nil {
		e.T.Fatalf("keys rewrap: %v", err)
	}
	var r RewrapOut
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.KeyID == "" {
		e.T.Fatalf("keys rewrap printed %q: %v", out, err)
	}
	return r
}

// auditEntryRef is what a paging test needs of an audit entry.
type auditEntryRef struct {
	Id            int64
	App, CorrelID string
}

// AuditPage reads one page of /admin/v1/audit.
func (e *Deployment) AuditPage(query url.Values) (entries []auditEntryRef, next string) {
	e.T.Helper()
	code, _, page := e.Call("GET", "/admin/v1/audit?"+query.Encode(), AdminToken, nil)
	if code != http.StatusOK {
		e.T.Fatalf("audit %s: %d %v", query.Encode(), code, page)
	}
	for _, x := range page["entries"].([]any) {
		m := x.(map[string]any)
		id, err := strconv.ParseInt(fmt.Sprint(m["id"]), 10, 64)
		if err != nil {
			e.T.Fatalf("audit entry id %v: %v", m["id"], err)
		}
		entries = append(entries, auditEntryRef{Id: id, App: fmt.Sprint(m["app_id"]), CorrelID: fmt.Sprint(m["correlation_id"])})
	}
	next, _ = page["next_cursor"].(string)
	return entries, next
}

// WalkAudit follows next_cursor from the first page of filter, pages of
// limit, calling between after the first page. It checks every page but the
// last is full and the last has no cursor.
func (e *Deployment) WalkAudit(filter url.Values, limit int, between func()) []auditEntryRef {
	e.T.Helper()
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for k, v := range filter {
		q[k] = v
	}
	var all []auditEntryRef
	for page := 1; ; page++ {
		entries, next := e.AuditPage(q)
		all = append(all, entries...)
		if next == "" {
			if len(entries) > limit {
				e.T.Fatalf("last page %d holds %d entries, over the limit of %d", page, len(entries), limit)
			}
			return all
		}
		if len(entries) != limit {
			e.T.Fatalf("page %d holds %d entries and a cursor, want a full page of %d", page, len(entries), limit)
		}
		if page == 1 {
			between()
		}
		q.Set("cursor", next)
	}
}

type ExportJSON struct {
	AppID    string `json:"app_id"`
	EndUser  string `json:"end_user"`
	Memories []struct {
		MemoryID string `json:"memory_id"`
		Content  string `json:"content"`
		History  []struct {
			Event      string `json:"event"`
			OldContent string `json:"old_content"`
			NewContent string `json:"new_content"`
		} `json:"history"`
	} `json:"memories"`
	Complete bool   `json:"complete"`
	Error    string `json:"error"`
}

// Export downloads the caller's export and decodes it.
func (e *Deployment) Export(token string) ExportJSON {
	e.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Base+"/api/v1/memories/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") == "" {
		e.T.Fatalf("export: %d %v %s", resp.StatusCode, resp.Header, raw)
	}
	var out ExportJSON
	if err := json.Unmarshal(raw, &out); err != nil {
		e.T.Fatalf("the export is not JSON: %v: %.300s", err, raw)
	}
	return out
}
