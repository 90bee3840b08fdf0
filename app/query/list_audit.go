package query

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

const (
	defaultAuditPage = 100
	maxAuditPage     = 500
)

// ListAudit reads a page of the audit trail, newest first unless
// OldestFirst. A nil Limit takes the default page size; empty filters select
// everything.
type ListAudit struct {
	AppID string
	// Operation is an audit action ("search", "create_memory", ...).
	Operation, Status, EndUser string
	// Since and Until bound when the calls happened: Since <= at < Until.
	Since, Until time.Time
	Limit        *int
	AfterID      int64
	OldestFirst  bool
}

// AuditPage is one page; NextAfterID is 0 on the last page.
type AuditPage struct {
	Entries     []audit.Entry
	NextAfterID int64
}

type ListAuditHandler decorator.QueryHandler[ListAudit, AuditPage]

type listAuditHandler struct{ repo audit.Repository }

func NewListAuditHandler(repo audit.Repository, log *slog.Logger, m *decorator.Metrics) ListAuditHandler {
	return decorator.ApplyQueryDecorators[ListAudit, AuditPage](listAuditHandler{repo: repo}, log, m)
}

func (h listAuditHandler) Handle(ctx context.Context, q ListAudit) (AuditPage, error) {
	f := audit.Filter{AppID: q.AppID, EndUser: q.EndUser, Action: audit.Action(q.Operation), Status: audit.Status(q.Status),
		Since: q.Since, Until: q.Until, Limit: defaultAuditPage, AfterID: q.AfterID, OldestFirst: q.OldestFirst}
	if f.Action != "" && !slices.Contains(audit.Actions, f.Action) {
		return AuditPage{}, errs.Invalid("operation", "operation-unknown", "operation must be one of "+joined(audit.Actions))
	}
	if f.Status != "" && !slices.Contains(audit.Statuses, f.Status) {
		return AuditPage{}, errs.Invalid("status", "status-unknown", "status must be one of "+joined(audit.Statuses))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return AuditPage{}, errs.Invalid("until", "time-range-empty", "until must be later than since")
	}
	if q.Limit != nil {
		f.Limit = *q.Limit
	}
	if f.Limit < 1 || f.Limit > maxAuditPage {
		return AuditPage{}, errs.Invalid("limit", "limit-out-of-range", "limit must be between 1 and 500")
	}
	// One extra row tells whether another page follows.
	want := f.Limit
	f.Limit++
	entries, err := h.repo.List(ctx, f)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Entries: entries}
	if len(entries) > want {
		page.Entries = entries[:want]
		page.NextAfterID = page.Entries[want-1].ID
	}
	return page, nil
}

// joined lists values for an error message: "a, b, c".
func joined[T ~string](values []T) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
