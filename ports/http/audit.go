package http

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
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

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := query.ListAudit{AppID: r.URL.Query().Get("app_id")}
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
		out.Entries = append(out.Entries, auditEntry{
			ID: strconv.FormatInt(e.ID, 10), AppID: e.AppID, EndUser: e.EndUser, Operation: string(e.Action), Status: string(e.Status),
			RequestID: e.RequestID, OperationID: e.OperationID, OccurredAt: e.OccurredAt,
			CompletedAt: timeOrNil(e.CompletedAt), Detail: e.Detail, CorrelationID: e.CorrelationID, Channel: e.Channel,
			TraceID: e.TraceID,
		})
	}
	if page.NextAfterID > 0 {
		out.NextCursor = encodeCursor(page.NextAfterID)
	}
	writeJSON(w, http.StatusOK, out)
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
