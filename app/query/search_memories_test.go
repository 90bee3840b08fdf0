package query_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

func newQuery(t *testing.T) memory.Query {
	t.Helper()
	limit := 5
	q, err := memory.NewQuery("what do I drink?", &limit)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func requireErr(t *testing.T, err error, kind errs.Kind, slug string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *errs.Error", err)
	}
	if e.Kind != kind || e.Slug != slug {
		t.Errorf("error = kind %v slug %q, want kind %v slug %q", e.Kind, e.Slug, kind, slug)
	}
}

func TestSearchMemories_success(t *testing.T) {
	t.Parallel()

	hits := []memory.Hit{{ID: "m-1", Content: "green tea", Relevance: 0.9}, {ID: "m-2", Content: "coffee", Relevance: 0.4}}
	bank, rec := &fakeSearchBank{hits: hits}, &fakeRecorder{}
	h := query.NewSearchMemoriesHandler(bank, rec, nil, nil)
	q := newQuery(t)
	before := time.Now()

	got, err := h.Handle(context.Background(), query.SearchMemories{AppID: "app-1", EndUser: "user-1", Query: q, RequestID: "req-1"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if !slices.EqualFunc(got, hits, func(a, b memory.Hit) bool { return a.ID == b.ID && a.Content == b.Content }) {
		t.Errorf("hits = %+v, want %+v", got, hits)
	}
	if bank.lastScope.AgentID() != "custom_gpt:app-1" || bank.lastScope.UserID() != "app-1:user-1" || bank.lastQuery != q {
		t.Errorf("bank searched scope %+v with %+v", bank.lastScope, bank.lastQuery)
	}

	e, ev := only[*events.MemoriesSearched](t, rec)
	if e.AppID != "app-1" || e.EndUser != "user-1" || e.Action != audit.ActionSearch || e.Status != audit.StatusSucceeded ||
		e.RequestID != "req-1" || e.OperationID != "" || e.Detail != "" || e.OccurredAt.Before(before) || e.CompletedAt.IsZero() {
		t.Errorf("audit entry = %+v", e)
	}
	if ev == nil || ev.Version != events.Version || ev.AppID != "app-1" || ev.EndUser != "user-1" || ev.ResultCount != 2 ||
		!ev.Succeeded || ev.RequestID != "req-1" || ev.OccurredAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}
}

func TestSearchMemories_bankFails(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		bankErr  error
		wantSlug string
	}{
		{"transient bank error", &memory.BankError{Transient: true, StatusCode: 503, Reason: "down"}, "memory-bank-unavailable"},
		{"timeout", context.DeadlineExceeded, "memory-bank-unavailable"},
		{"permanent bank error", &memory.BankError{StatusCode: 400, Reason: "bad filter"}, "memory-bank-rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bank, rec := &fakeSearchBank{err: tt.bankErr}, &fakeRecorder{}
			h := query.NewSearchMemoriesHandler(bank, rec, nil, nil)

			got, err := h.Handle(context.Background(), query.SearchMemories{AppID: "app-1", Query: newQuery(t), RequestID: "req-1"})
			requireErr(t, err, errs.KindUnavailable, tt.wantSlug)
			if !errors.Is(err, tt.bankErr) {
				t.Errorf("error %v does not wrap the bank error", err)
			}
			if got != nil {
				t.Errorf("hits = %+v with an error", got)
			}

			// The failed search is audited and announced all the same.
			e, ev := only[*events.MemoriesSearched](t, rec)
			if e.Status != audit.StatusFailed || e.Detail == "" || e.Action != audit.ActionSearch || e.AppID != "app-1" {
				t.Errorf("audit entry = %+v, want failed with detail", e)
			}
			if ev.Succeeded || ev.ResultCount != 0 || ev.AppID != "app-1" || ev.RequestID != "req-1" {
				t.Errorf("event = %+v, want unsuccessful", ev)
			}
		})
	}
}

func TestSearchMemories_recorderFails(t *testing.T) {
	t.Parallel()

	recErr := errors.New("outbox insert failed")
	tests := []struct {
		name    string
		bankErr error
	}{
		{"search succeeded", nil},
		{"search failed too", &memory.BankError{Transient: true, Reason: "down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bank := &fakeSearchBank{hits: []memory.Hit{{ID: "m-1"}}, err: tt.bankErr}
			h := query.NewSearchMemoriesHandler(bank, &fakeRecorder{err: recErr}, nil, nil)

			got, err := h.Handle(context.Background(), query.SearchMemories{AppID: "app-1", Query: newQuery(t)})
			requireErr(t, err, errs.KindUnavailable, "audit-unavailable")
			if !errors.Is(err, recErr) {
				t.Errorf("error %v does not wrap the recorder failure", err)
			}
			if got != nil {
				t.Errorf("hits = %+v returned without an audit", got)
			}
		})
	}
}

func TestSearchMemories_auditsAfterCallerGaveUp(t *testing.T) {
	t.Parallel()

	rec := &fakeRecorder{}
	h := query.NewSearchMemoriesHandler(&fakeSearchBank{err: context.Canceled}, rec, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := h.Handle(ctx, query.SearchMemories{AppID: "app-1", Query: newQuery(t)}); err == nil {
		t.Fatal("Handle succeeded on a failed search")
	}
	if len(rec.records) != 1 || rec.records[0].ctxErr != nil {
		t.Errorf("records = %+v, want one written with a live context", rec.records)
	}
}

func TestSearchMemories_invalidScope(t *testing.T) {
	t.Parallel()

	bank := &fakeSearchBank{}
	h := query.NewSearchMemoriesHandler(bank, &fakeRecorder{}, nil, nil)
	if _, err := h.Handle(context.Background(), query.SearchMemories{AppID: "a:b", Query: newQuery(t)}); errs.KindOf(err) != errs.KindInvalid {
		t.Errorf("Handle = %v, want KindInvalid", err)
	}
	if bank.calls != 0 {
		t.Error("bank searched with an invalid scope")
	}
}
