package query_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// foreignScopes pairs a memory's owner with a caller who must never reach it.
var foreignScopes = []struct {
	name   string
	owner  [2]string // app, end user
	caller [2]string
}{
	{"another application", [2]string{"app-2", "user-1"}, [2]string{"app-1", "user-1"}},
	{"another end user", [2]string{"app-1", "user-2"}, [2]string{"app-1", "user-1"}},
	{"the application's own, asked by an end user", [2]string{"app-1", ""}, [2]string{"app-1", "user-1"}},
	{"an end user's, asked by the application", [2]string{"app-1", "user-1"}, [2]string{"app-1", ""}},
}

func TestGetMemory_success(t *testing.T) {
	t.Parallel()

	bank, rec := newFakeReader(), &fakeRecorder{}
	caller := mustScope(t, "app-1", "user-1")
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	bank.put(caller, memory.Record{ID: "m-1", Content: "likes green tea", CreatedAt: created})
	h := query.NewGetMemoryHandler(bank, bank, rec, nil, nil)

	got, err := h.Handle(context.Background(), query.GetMemory{AppID: "app-1", EndUser: "user-1", MemoryID: "m-1", RequestID: "req-1"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got.ID != "m-1" || got.Content != "likes green tea" || !got.CreatedAt.Equal(created) {
		t.Errorf("record = %+v", got)
	}
	if bank.lastScope != caller {
		t.Errorf("read scope %+v, want the caller's", bank.lastScope)
	}
	e, ev := only[*events.MemoryRead](t, rec)
	if e.AppID != "app-1" || e.EndUser != "user-1" || e.Action != audit.ActionGetMemory || e.Status != audit.StatusSucceeded ||
		e.RequestID != "req-1" || e.CompletedAt.IsZero() {
		t.Errorf("audit entry = %+v", e)
	}
	if ev.Version != events.Version || ev.AppID != "app-1" || ev.EndUser != "user-1" || ev.MemoryID != "m-1" ||
		!ev.Succeeded || ev.RequestID != "req-1" || ev.OccurredAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}
}

// Someone else's memory is a NotFound exactly like a missing one; the attempt is
// audited as failed.
func TestGetMemory_otherScopesAreNotFound(t *testing.T) {
	t.Parallel()

	type ask struct {
		name     string
		owner    memory.Scope
		caller   [2]string
		memoryID string
	}
	asks := []ask{{"missing", mustScope(t, "app-1", "user-1"), [2]string{"app-1", "user-1"}, "m-404"}}
	for _, f := range foreignScopes {
		asks = append(asks, ask{f.name, mustScope(t, f.owner[0], f.owner[1]), f.caller, "m-1"})
	}
	for _, tt := range asks {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bank, rec := newFakeReader(), &fakeRecorder{}
			bank.put(tt.owner, memory.Record{ID: "m-1", Content: "secret"})
			h := query.NewGetMemoryHandler(bank, bank, rec, nil, nil)

			got, err := h.Handle(context.Background(), query.GetMemory{AppID: tt.caller[0], EndUser: tt.caller[1], MemoryID: tt.memoryID})
			requireErr(t, err, errs.KindNotFound, "memory-not-found")
			if got.Content != "" || got.ID != "" {
				t.Errorf("record %+v leaked with the error", got)
			}
			if bank.callCount() != 0 {
				t.Errorf("the Memory Bank was asked for a memory the caller's scope does not hold")
			}
			e, ev := only[*events.MemoryRead](t, rec)
			if e.Status != audit.StatusFailed || !strings.Contains(e.Detail, "memory-not-found") || ev.Succeeded || ev.MemoryID != tt.memoryID {
				t.Errorf("audit %+v, event %+v: want the failure recorded", e, ev)
			}
		})
	}
}

// An id that can name no memory is answered as a missing memory without asking
// the Memory Bank, and is not copied into the event.
func TestGetMemory_absurdIDIsNotFound(t *testing.T) {
	t.Parallel()

	bank, rec := newFakeReader(), &fakeRecorder{}
	h := query.NewGetMemoryHandler(bank, bank, rec, nil, nil)

	for _, id := range []string{"", strings.Repeat("m", memory.MaxIDChars+1), "\xff"} {
		_, err := h.Handle(context.Background(), query.GetMemory{AppID: "app-1", MemoryID: id})
		requireErr(t, err, errs.KindNotFound, "memory-not-found")
	}
	if n := bank.callCount(); n != 0 {
		t.Errorf("Memory Bank called %d times", n)
	}
	for _, r := range rec.records {
		if ev := r.event.(*events.MemoryRead); ev.MemoryID != "" || ev.Succeeded {
			t.Errorf("event = %+v", ev)
		}
	}
}
