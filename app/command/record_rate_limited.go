package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
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

// AuditLog appends audit entries that belong to no transaction of their own. It
// may write them a moment later and many at once: a client flooding past its
// limit must not cost the database a commit per refused request.
type AuditLog interface {
	Append(ctx context.Context, e audit.Entry) error
}

type recordRateLimitedHandler struct{ log AuditLog }

func NewRecordRateLimitedHandler(auditLog AuditLog, log *slog.Logger, m *decorator.Metrics) RecordRateLimitedHandler {
	return decorator.ApplyCommandDecorators[RecordRateLimited](recordRateLimitedHandler{log: auditLog}, log, m)
}

// Handle appends the audit entry even when the client has already gone.
func (h recordRateLimitedHandler) Handle(ctx context.Context, c RecordRateLimited) error {
	now := time.Now().UTC()
	e := audit.Entry{
		AppID: c.AppID, EndUser: c.EndUser, Action: audit.ActionRateLimited, Status: audit.StatusFailed,
		RequestID: c.RequestID, Detail: "the " + string(c.Budget) + " budget is spent: " + c.Method + " " + c.Path,
		OccurredAt: now, CompletedAt: now, CorrelationID: events.CorrelationID(ctx), Channel: events.Channel(ctx),
		TraceID: events.TraceID(ctx),
	}
	return h.log.Append(context.WithoutCancel(ctx), e)
}
