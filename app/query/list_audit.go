package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

const maxAuditPage = 500

// ListAudit reads a page of the audit trail, newest first.
type ListAudit struct{ Filter audit.Filter }

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
	f := q.Filter
	if f.Limit == 0 {
		f.Limit = 100
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
