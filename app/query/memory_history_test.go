package query_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

func TestMemoryHistory_success(t *testing.T) {
	t.Parallel()

	bank, rec := newFakeReader(), &fakeRecorder{}
	caller := mustScope(t, "app-1", "")
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	changes := []memory.Change{
		{ID: "h-1", MemoryID: "m-1", NewContent: "likes tea", Event: memory.EventAdd, CreatedAt: t0},
		{ID: "h-2", MemoryID: "m-1", OldContent: "likes tea", NewContent: "likes oolong", Event: memory.EventUpdate, CreatedAt: t0.Add(time.Hour)},
	}
	bank.put(caller, memory.Record{ID: "m-1", Content: "likes oolong"}, changes...)
	h := query.NewMemoryHistoryHandler(bank, bank, rec, nil, nil)

	got, err := h.Handle(context.Background(), query.MemoryHistory{AppID: "app-1", MemoryID: "m-1", RequestID: "req-1"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if !slices.Equal(got, changes) {
		t.Errorf("changes = %+v, want %+v", got, changes)
	}
	e, ev := only[*events.MemoryHistoryRead](t, rec)
	if e.AppID != "app-1" || e.EndUser != "" || e.Action != audit.ActionMemoryHistory || e.Status != audit.StatusSucceeded || e.RequestID != "req-1" {
		t.Errorf("audit entry = %+v", e)
	}
	if ev.Version != events.Version || ev.AppID != "app-1" || ev.MemoryID != "m-1" || ev.ChangeCount != 2 ||
		!ev.Succeeded || ev.RequestID != "req-1" || ev.OccurredAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}
}

func TestMemoryHistory_otherScopesAreNotFound(t *testing.T) {
	t.Parallel()

	for _, tt := range foreignScopes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bank, rec := newFakeReader(), &fakeRecorder{}
			bank.put(mustScope(t, tt.owner[0], tt.owner[1]), memory.Record{ID: "m-1"},
				memory.Change{ID: "h-1", MemoryID: "m-1", NewContent: "secret", Event: memory.EventAdd})
			h := query.NewMemoryHistoryHandler(bank, bank, rec, nil, nil)

			got, err := h.Handle(context.Background(), query.MemoryHistory{AppID: tt.caller[0], EndUser: tt.caller[1], MemoryID: "m-1"})
			requireErr(t, err, errs.KindNotFound, "memory-not-found")
			if got != nil {
				t.Errorf("changes %+v leaked with the error", got)
			}
			e, ev := only[*events.MemoryHistoryRead](t, rec)
			if e.Status != audit.StatusFailed || ev.Succeeded || ev.ChangeCount != 0 {
				t.Errorf("audit %+v, event %+v: want the failure recorded", e, ev)
			}
		})
	}
}
