package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// RecordRateLimited audits a request refused because Budget was spent. It is
// the only thing such a request writes.
type RecordRateLimited struct {
	AppID     string
	EndUser   string
	RequestID string
	Budget    Budget
	Method    string
	Path      string
}

type RecordRateLimitedHandler decorator.CommandHandler[RecordRateLimited]

type recordRateLimitedHandler struct{ tx Transactor }

func NewRecordRateLimitedHandler(tx Transactor, log *slog.Logger, m *decorator.Metrics) RecordRateLimitedHandler {
	return decorator.ApplyCommandDecorators[RecordRateLimited](recordRateLimitedHandler{tx: tx}, log, m)
}

// Handle writes the audit entry even when the client has already gone.
func (h recordRateLimitedHandler) Handle(ctx context.Context, c RecordRateLimited) error {
	now := time.Now().UTC()
	e := audit.Entry{
		AppID: c.AppID, EndUser: c.EndUser, Action: audit.ActionRateLimited, Status: audit.StatusFailed,
		RequestID: c.RequestID, Detail: "the " + string(c.Budget) + " budget is spent: " + c.Method + " " + c.Path,
		OccurredAt: now, CompletedAt: now,
	}
	return h.tx.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx Tx) error {
		return tx.InsertAudit(ctx, e)
	})
}
