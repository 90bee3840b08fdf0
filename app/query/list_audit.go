package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

const (
	defaultAuditPage = 100
	maxAuditPage     = 500
)

// ListAudit reads a page of the audit trail, newest first. A nil Limit takes
// the default page size.
type ListAudit struct {
	AppID   string
	Limit   *int
	AfterID int64
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
	f := audit.Filter{AppID: q.AppID, Limit: defaultAuditPage, AfterID: q.AfterID}
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
