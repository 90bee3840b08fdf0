package command

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// AuthenticateAdmin checks the admin token a request to the admin API carries,
// from Address (the client's, as the HTTP port resolved it).
type AuthenticateAdmin struct {
	Token     string
	Address   string
	RequestID string
	Method    string
	Path      string
}

type AuthenticateAdminHandler decorator.CommandHandler[AuthenticateAdmin]

// FailureBudget counts failed attempts per key. Wait tells how long until the
// key may try again (0: now) without counting; Spend counts one failure.
type FailureBudget interface {
	Wait(ctx context.Context, key string) (time.Duration, error)
	Spend(ctx context.Context, key string) error
}

type authenticateAdminHandler struct {
	token    []byte
	failures FailureBudget
	log      AuditLog
}

func NewAuthenticateAdminHandler(token string, failures FailureBudget, auditLog AuditLog, log *slog.Logger, m *decorator.Metrics) AuthenticateAdminHandler {
	return decorator.ApplyCommandDecorators[AuthenticateAdmin](authenticateAdminHandler{token: []byte(token), failures: failures, log: auditLog}, log, m)
}

// Handle compares the token in constant time. A wrong or missing one is
// audited and counts against its address; an address that has spent its
// failures is refused before its token is looked at, right or wrong, so that
// guessing goes no faster than the budget. The budget fails open (Redis
// down): the token check still runs.
func (h authenticateAdminHandler) Handle(ctx context.Context, c AuthenticateAdmin) error {
	key := "admin:address:" + c.Address
	if wait, err := h.failures.Wait(ctx, key); err == nil && wait > 0 {
		return errs.RateLimited("admin-attempts-spent", "too many failed admin attempts from this address; retry later", wait)
	}
	if len(c.Token) > 0 && len(h.token) > 0 && subtle.ConstantTimeCompare([]byte(c.Token), h.token) == 1 {
		return nil
	}
	_ = h.failures.Spend(ctx, key) // failing open, like Wait
	now := time.Now().UTC()
	_ = h.log.Append(context.WithoutCancel(ctx), audit.Entry{
		Action: audit.ActionAdminAuth, Status: audit.StatusFailed, RequestID: c.RequestID,
		Detail:     "missing or wrong admin token from " + c.Address + ": " + c.Method + " " + c.Path,
		OccurredAt: now, CompletedAt: now,
	})
	return errs.Unauthorized("invalid-admin-token", "the admin token is missing or wrong")
}
