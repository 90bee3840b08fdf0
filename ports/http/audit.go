package http

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

type auditEntry struct {
	ID          string     `json:"id"`
	AppID       string     `json:"app_id"`
	EndUser     string     `json:"end_user,omitempty"`
	Operation   string     `json:"operation"`
	Status      string     `json:"status"`
	RequestID   string     `json:"request_id"`
	OperationID string     `json:"operation_id,omitempty"`
	OccurredAt  time.Time  `json:"occurred_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Detail      string     `json:"detail,omitempty"`

	// CorrelationID: the client's X-Request-ID, else request_id.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Channel: "api" (the REST API) or "mcp".
	Channel string `json:"channel"`
	// TraceID: the request's trace (W3C trace id), when it was traced.
	TraceID string `json:"trace_id,omitempty"`
}

type auditPage struct {
	Entries    []auditEntry `json:"entries"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// auditQuery reads the filters both the listing and the export take.
func auditQuery(r *http.Request) (query.ListAudit, error) {
	v := r.URL.Query()
	q := query.ListAudit{AppID: v.Get("app_id"), Operation: v.Get("operation"), Status: v.Get("status"), EndUser: v.Get("end_user")}
	for _, bound := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if t := v.Get(bound.name); t != "" {
			at, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return q, errs.Invalid(bound.name, "time-invalid", bound.name+" must be an RFC 3339 time, such as 2026-12-07T00:00:00Z")
			}
			*bound.to = at
		}
	}
	return q, nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q, err := auditQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, r, errs.Invalid("limit", "limit-not-a-number", "limit must be a whole number"))
			return
		}
		q.Limit = &n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		id, ok := decodeCursor(c)
		if !ok {
			writeError(w, r, errs.Invalid("cursor", "cursor-invalid", "cursor must be a next_cursor from an earlier page"))
			return
		}
		q.AfterID = id
	}
	page, err := s.app.Queries.ListAudit.Handle(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := auditPage{Entries: make([]auditEntry, 0, len(page.Entries))}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, auditEntryOf(e))
	}
	if page.NextAfterID > 0 {
		out.NextCursor = encodeCursor(page.NextAfterID)
	}
	writeJSON(w, http.StatusOK, out)
}

func auditEntryOf(e audit.Entry) auditEntry {
	return auditEntry{
		ID: strconv.FormatInt(e.ID, 10), AppID: e.AppID, EndUser: e.EndUser, Operation: string(e.Action), Status: string(e.Status),
		RequestID: e.RequestID, OperationID: e.OperationID, OccurredAt: e.OccurredAt,
		CompletedAt: timeOrNil(e.CompletedAt), Detail: e.Detail, CorrelationID: e.CorrelationID, Channel: e.Channel,
		TraceID: e.TraceID,
	}
}

// auditExportPage is how many entries the export reads at a time.
const auditExportPage = 500

// exportAudit streams every entry the filters select, oldest first, as JSON
// Lines: one entry per line, written as it is read, so the trail of any size
// costs the same memory. Bad filters are a problem answer; a failure once
// lines went out cuts the response off, so the client sees an error rather
// than a trail that looks complete.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) {
	q, err := auditQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit := auditExportPage
	q.OldestFirst, q.Limit = true, &limit
	page, err := s.app.Queries.ListAudit.Handle(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.jsonl"`)
	w.WriteHeader(http.StatusOK)
	out := deadlineWriter{w: w, rc: rc}
	for {
		for _, e := range page.Entries {
			line, _ := segjson.Marshal(auditEntryOf(e))
			if _, err := out.Write(append(line, '\n')); err != nil {
				return
			}
		}
		_ = rc.Flush()
		if page.NextAfterID == 0 {
			return
		}
		q.AfterID = page.NextAfterID
		if page, err = s.app.Queries.ListAudit.Handle(r.Context(), q); err != nil {
			panic(http.ErrAbortHandler) // the trail is partial: the client must not take it as whole
		}
	}
}

// Cursors are opaque to callers so the paging key can change without breaking them.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	return id, err == nil && id > 0
}
