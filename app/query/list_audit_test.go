package query_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// auditRows returns entries with ids 1..n of app.
func auditRows(app string, n int) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{ID: int64(i + 1), AppID: app, Action: audit.ActionSearch, Status: audit.StatusSucceeded}
	}
	return out
}

func TestListAudit_limits(t *testing.T) {
	t.Parallel()

	intp := func(n int) *int { return &n }
	tests := []struct {
		name        string
		limit       *int
		rows        int
		wantErr     bool
		wantRepoLim int
		wantEntries int
		wantNext    int64
	}{
		{"no limit takes 100", nil, 150, false, 101, 100, 51},
		{"limit 0", intp(0), 10, true, 0, 0, 0},
		{"limit 1", intp(1), 3, false, 2, 1, 3},
		{"limit 500", intp(500), 10, false, 501, 10, 0},
		{"limit 500 of 600", intp(500), 600, false, 501, 500, 101},
		{"limit 501", intp(501), 10, true, 0, 0, 0},
		{"negative limit", intp(-1), 10, true, 0, 0, 0},
		{"exactly one page", intp(5), 5, false, 6, 5, 0},
		{"one row more than a page", intp(5), 6, false, 6, 5, 2},
		{"no rows", intp(5), 0, false, 6, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := &fakeAuditRepo{entries: auditRows("app-1", tt.rows)}
			h := query.NewListAuditHandler(repo, nil, nil)

			page, err := h.Handle(context.Background(), query.ListAudit{AppID: "app-1", Limit: tt.limit})
			if tt.wantErr {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "limit" {
					t.Errorf("error = %v, want KindInvalid on limit", err)
				}
				if len(repo.filters) != 0 {
					t.Error("repository queried with an invalid limit")
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if len(repo.filters) != 1 || repo.filters[0].Limit != tt.wantRepoLim || repo.filters[0].AppID != "app-1" {
				t.Errorf("repository filters = %+v, want limit %d", repo.filters, tt.wantRepoLim)
			}
			if len(page.Entries) != tt.wantEntries || page.NextAfterID != tt.wantNext {
				t.Errorf("page = %d entries, next %d; want %d, next %d", len(page.Entries), page.NextAfterID, tt.wantEntries, tt.wantNext)
			}
		})
	}
}

// Following the cursor visits every entry once, newest first.
func TestListAudit_cursorWalk(t *testing.T) {
	t.Parallel()

	rows := append(auditRows("app-1", 12), audit.Entry{ID: 100, AppID: "app-2"})
	h := query.NewListAuditHandler(&fakeAuditRepo{entries: rows}, nil, nil)

	var seen []int64
	limit := 5
	q := query.ListAudit{AppID: "app-1", Limit: &limit}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("cursor does not end")
		}
		page, err := h.Handle(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			seen = append(seen, e.ID)
		}
		if page.NextAfterID == 0 {
			break
		}
		q.AfterID = page.NextAfterID
	}
	if len(seen) != 12 {
		t.Fatalf("saw %v, want 12 entries", seen)
	}
	for i, id := range seen {
		if id != int64(12-i) {
			t.Fatalf("saw %v, want 12 down to 1", seen)
		}
	}
}

func TestListAudit_repositoryError(t *testing.T) {
	t.Parallel()

	boom := errors.New("db down")
	h := query.NewListAuditHandler(&fakeAuditRepo{err: boom}, nil, nil)
	if _, err := h.Handle(context.Background(), query.ListAudit{}); !errors.Is(err, boom) {
		t.Errorf("Handle = %v, want the repository error", err)
	}
}
