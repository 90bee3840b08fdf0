package query

import (
	"context"
	"errors"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// VerifyAudit walks the audit chain of one application, or of every one when
// AppID is empty, and finds the first entry or link that does not match.
type VerifyAudit struct {
	AppID string
}

// AuditVerification is the outcome per application; it is intact when no
// application has a Break.
type AuditVerification struct {
	Apps []AppChain
}

// Intact tells whether every chain checked out.
func (v AuditVerification) Intact() bool {
	for _, a := range v.Apps {
		if a.Break != nil {
			return false
		}
	}
	return true
}

// AppChain is one application's chain: how many links checked out, and the
// first place it did not match, if any.
type AppChain struct {
	AppID string
	Links int64
	Break *audit.Break
}

// AuditChains reads the chains the database appends (adapters/postgres).
type AuditChains interface {
	ChainApps(ctx context.Context) ([]string, error)
	WalkChain(ctx context.Context, appID string, fn func(l audit.Link, current *audit.Entry, latest bool) error) ([]audit.Head, error)
	FirstUnchained(ctx context.Context, appID string) (entryID int64, found bool, err error)
}

type VerifyAuditHandler decorator.QueryHandler[VerifyAudit, AuditVerification]

type verifyAuditHandler struct{ chains AuditChains }

func NewVerifyAuditHandler(chains AuditChains, log *slog.Logger, m *decorator.Metrics) VerifyAuditHandler {
	return decorator.ApplyQueryDecorators[VerifyAudit, AuditVerification](verifyAuditHandler{chains: chains}, log, m)
}

func (h verifyAuditHandler) Handle(ctx context.Context, q VerifyAudit) (AuditVerification, error) {
	apps := []string{q.AppID}
	if q.AppID == "" {
		var err error
		if apps, err = h.chains.ChainApps(ctx); err != nil {
			return AuditVerification{}, err
		}
	}
	var v AuditVerification
	for _, app := range apps {
		c, err := h.verify(ctx, app)
		if err != nil {
			return v, err
		}
		v.Apps = append(v.Apps, c)
	}
	return v, nil
}

// verify checks each of the application's chains (its lanes) link by link,
// then against its heads, then that every entry in a terminal status has a
// link.
func (h verifyAuditHandler) verify(ctx context.Context, app string) (AppChain, error) {
	check := audit.NewChainCheck(app)
	heads, err := h.chains.WalkChain(ctx, app, func(l audit.Link, current *audit.Entry, latest bool) error {
		if b := check.Next(l, current, latest); b != nil {
			return b
		}
		return nil
	})
	out := AppChain{AppID: app, Links: check.Links()}
	if errors.As(err, &out.Break) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	if out.Break = check.End(heads); out.Break != nil {
		return out, nil
	}
	id, found, err := h.chains.FirstUnchained(ctx, app)
	if err != nil {
		return out, err
	}
	if found {
		out.Break = &audit.Break{AppID: app, EntryID: id, Reason: "ended without a link: it was written or changed with the chain's triggers off"}
	}
	return out, nil
}
