package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

func mustScope(t *testing.T, appID, endUser string) memory.Scope {
	t.Helper()
	s, err := memory.NewScope(appID, endUser)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestListMemories_pagesTheCallersOwnMemories(t *testing.T) {
	t.Parallel()

	bank, rec := newFakeReader(), &fakeRecorder{}
	caller := mustScope(t, "app-1", "user-1")
	for _, id := range []string{"m-1", "m-2", "m-3"} {
		bank.put(caller, memory.Record{ID: id, Content: "mine " + id})
	}
	bank.put(mustScope(t, "app-1", "user-2"), memory.Record{ID: "other-user"})
	bank.put(mustScope(t, "app-2", "user-1"), memory.Record{ID: "other-app"})
	h := query.NewListMemoriesHandler(bank, bank, rec, nil, nil)
	before := time.Now()

	page, err := h.Handle(context.Background(), query.ListMemories{
		AppID: "app-1", EndUser: "user-1", Page: memory.Page{Limit: 2}, RequestID: "req-1",
	})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if bank.lastScope != caller || bank.lastPage != (memory.Page{Limit: 2}) {
		t.Errorf("listed scope %+v page %+v", bank.lastScope, bank.lastPage)
	}
	if len(page.Records) != 2 || page.Records[0].ID != "m-3" || page.Records[1].ID != "m-2" || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	e, ev := only[*events.MemoriesListed](t, rec)
	if e.AppID != "app-1" || e.EndUser != "user-1" || e.Action != audit.ActionListMemories || e.Status != audit.StatusSucceeded ||
		e.RequestID != "req-1" || e.OperationID != "" || e.Detail != "" || e.OccurredAt.Before(before) || e.CompletedAt.IsZero() {
		t.Errorf("audit entry = %+v", e)
	}
	if ev.Version != events.Version || ev.AppID != "app-1" || ev.EndUser != "user-1" || ev.ResultCount != 2 ||
		!ev.Succeeded || ev.RequestID != "req-1" || ev.OccurredAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}

	rest, err := h.Handle(context.Background(), query.ListMemories{
		AppID: "app-1", EndUser: "user-1", Page: memory.Page{Limit: 2, Cursor: page.NextCursor},
	})
	if err != nil {
		t.Fatalf("second page: %v", err)
	}
	if len(rest.Records) != 1 || rest.Records[0].ID != "m-1" || rest.NextCursor != "" {
		t.Errorf("second page = %+v", rest)
	}
}

func TestListMemories_invalidCursorIsTheCallersFault(t *testing.T) {
	t.Parallel()

	bank, rec := newFakeReader(), &fakeRecorder{}
	h := query.NewListMemoriesHandler(bank, bank, rec, nil, nil)

	page, err := h.Handle(context.Background(), query.ListMemories{AppID: "app-1", Page: memory.Page{Cursor: "not-a-cursor"}})
	requireErr(t, err, errs.KindInvalid, "cursor-invalid")
	if len(page.Records) != 0 {
		t.Errorf("records returned with an error: %+v", page)
	}
	e, ev := only[*events.MemoriesListed](t, rec)
	if e.Status != audit.StatusFailed || e.Detail == "" || ev.Succeeded {
		t.Errorf("audit %+v, event %+v: want the failure recorded", e, ev)
	}
}
