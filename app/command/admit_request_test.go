package command_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// fakeLimiter allows each key Burst requests, then refuses; it records calls.
type fakeLimiter struct {
	spent map[string]int
	calls []string
	rates map[string]application.Rate
	err   error
}

func (l *fakeLimiter) Allow(_ context.Context, key string, rate application.Rate) (command.RateDecision, error) {
	l.calls = append(l.calls, key)
	l.rates[key] = rate
	if l.err != nil {
		return command.RateDecision{}, l.err
	}
	if l.spent[key] >= rate.Burst {
		return command.RateDecision{RetryAfter: time.Second, ResetAfter: time.Duration(rate.Burst) * time.Second}, nil
	}
	l.spent[key]++
	return command.RateDecision{Allowed: true, Remaining: rate.Burst - l.spent[key]}, nil
}

var limitDefaults = application.RateLimits{App: application.Rate{PerSecond: 20, Burst: 3}, User: application.Rate{PerSecond: 5, Burst: 1}}

func newAdmit() (*fakeLimiter, command.AdmitRequestHandler) {
	l := &fakeLimiter{spent: map[string]int{}, rates: map[string]application.Rate{}}
	return l, command.NewAdmitRequestHandler(l, limitDefaults, nil, nil)
}

func TestAdmitRequestSpendsTheApplicationsBudget(t *testing.T) {
	t.Parallel()
	l, h := newAdmit()
	ctx := context.Background()
	for i := range 3 {
		adm, err := h.Handle(ctx, command.AdmitRequest{AppID: "app-1"})
		if err != nil || adm.Refused != "" || len(adm.Budgets) != 1 || adm.Budgets[0].Budget != command.BudgetApp ||
			!adm.Budgets[0].Checked || adm.Budgets[0].Decision.Remaining != 2-i {
			t.Fatalf("request %d: %+v %v", i+1, adm, err)
		}
	}
	adm, err := h.Handle(ctx, command.AdmitRequest{AppID: "app-1"})
	if err != nil || adm.Refused != command.BudgetApp {
		t.Fatalf("fourth request: %+v %v, want refused by the app budget", adm, err)
	}
	// Another application has its own budget, with its own overrides.
	over := application.RateLimits{App: application.Rate{Burst: 7}}
	if adm, _ := h.Handle(ctx, command.AdmitRequest{AppID: "app-2", Limits: over}); adm.Refused != "" || adm.Budgets[0].Rate != (application.Rate{PerSecond: 20, Burst: 7}) {
		t.Fatalf("app-2: %+v", adm)
	}
	if l.rates["app:app-2"] != (application.Rate{PerSecond: 20, Burst: 7}) {
		t.Errorf("limiter asked with %+v", l.rates["app:app-2"])
	}
}

func TestAdmitRequestChecksTheEndUserFirst(t *testing.T) {
	t.Parallel()
	l, h := newAdmit()
	ctx := context.Background()
	alice := command.AdmitRequest{AppID: "app-1", EndUser: "alice"}
	adm, err := h.Handle(ctx, alice)
	if err != nil || adm.Refused != "" || len(adm.Budgets) != 2 || !adm.Budgets[0].Checked || !adm.Budgets[1].Checked {
		t.Fatalf("first request: %+v %v", adm, err)
	}
	if want := []string{"user:app-1:alice", "app:app-1"}; !slices.Equal(l.calls, want) {
		t.Fatalf("limiter calls %v, want %v", l.calls, want)
	}
	// Alice's own budget (1) is spent: refused without touching the app's.
	adm, _ = h.Handle(ctx, alice)
	if adm.Refused != command.BudgetUser || adm.Budgets[0].Checked || !adm.Budgets[1].Checked {
		t.Fatalf("second request: %+v, want refused by the user budget, app budget unchecked", adm)
	}
	if l.spent["app:app-1"] != 1 {
		t.Errorf("the app budget spent %d, want 1", l.spent["app:app-1"])
	}
	// Bob is still served.
	if adm, _ := h.Handle(ctx, command.AdmitRequest{AppID: "app-1", EndUser: "bob"}); adm.Refused != "" {
		t.Fatalf("bob: %+v", adm)
	}
}

func TestAdmitRequestReportsALimiterFailure(t *testing.T) {
	t.Parallel()
	l, h := newAdmit()
	l.err = errors.New("redis: connection refused")
	_, err := h.Handle(context.Background(), command.AdmitRequest{AppID: "app-1", EndUser: "alice"})
	if errs.KindOf(err) != errs.KindUnavailable || !errors.Is(err, l.err) {
		t.Fatalf("err %v, want unavailable wrapping the cause", err)
	}
}

func TestRecordRateLimitedWritesOnlyAnAuditEntry(t *testing.T) {
	t.Parallel()
	db := newFakeDB()
	h := command.NewRecordRateLimitedHandler(auditLogOf{db}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client has gone: the entry is written anyway
	err := h.Handle(ctx, command.RecordRateLimited{AppID: "app-1", EndUser: "alice", RequestID: "req-1",
		Budget: command.BudgetUser, Method: "POST", Path: "/api/v1/memories"})
	if err != nil {
		t.Fatal(err)
	}
	if db.auditCount() != 1 || db.operationCount() != 0 || len(db.published()) != 0 {
		t.Fatalf("wrote %d audits, %d operations, %d events", db.auditCount(), db.operationCount(), len(db.published()))
	}
	e := db.auditsOf("")[0]
	if e.Action != audit.ActionRateLimited || e.Status != audit.StatusFailed || e.RequestID != "req-1" ||
		e.EndUser != "alice" || e.Detail != "the user budget is spent: POST /api/v1/memories" {
		t.Fatalf("entry %+v", e)
	}
}

// auditLogOf appends to the fake database, refusing a cancelled context as
// Postgres would.
type auditLogOf struct{ db *fakeDB }

func (l auditLogOf) Append(ctx context.Context, e audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.db.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return tx.InsertAudit(ctx, e) })
}
