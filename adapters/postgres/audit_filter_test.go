package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// Each filter of the audit listing selects exactly the entries it names, on
// its own and combined, newest or oldest first, and the cursor goes on in
// the order asked for.
func TestAuditListFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	type row struct {
		app, user string
		action    audit.Action
		status    audit.Status
		minute    int
	}
	rows := []row{
		{"app-1", "alice", audit.ActionSearch, audit.StatusSucceeded, 0},
		{"app-1", "bob", audit.ActionSearch, audit.StatusSucceeded, 1},
		{"app-1", "alice", audit.ActionCreateMemory, audit.StatusFailed, 2},
		{"app-2", "alice", audit.ActionSearch, audit.StatusSucceeded, 3},
		{"app-1", "", audit.ActionRateLimited, audit.StatusFailed, 4},
		{"app-1", "alice", audit.ActionSearch, audit.StatusFailed, 5},
	}
	if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		for i, r := range rows {
			at := t0.Add(time.Duration(r.minute) * time.Minute)
			if err := tx.InsertAudit(ctx, audit.Entry{AppID: r.app, EndUser: r.user, Action: r.action, Status: r.status,
				RequestID: "r", OccurredAt: at, CompletedAt: at, Detail: string(rune('a' + i))}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	repo := postgres.NewAuditRepository(pool)
	details := func(f audit.Filter) string {
		t.Helper()
		f.Limit = max(f.Limit, 100)
		got, err := repo.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, e := range got {
			s += e.Detail
		}
		return s
	}
	for _, c := range []struct {
		name   string
		filter audit.Filter
		want   string // the entries' details, in the order listed
	}{
		{"none, newest first", audit.Filter{}, "fedcba"},
		{"none, oldest first", audit.Filter{OldestFirst: true}, "abcdef"},
		{"application", audit.Filter{AppID: "app-1"}, "fecba"},
		{"end user", audit.Filter{EndUser: "alice"}, "fdca"},
		{"operation", audit.Filter{Action: audit.ActionSearch}, "fdba"},
		{"status", audit.Filter{Status: audit.StatusFailed}, "fec"},
		{"since", audit.Filter{Since: t0.Add(3 * time.Minute)}, "fed"},
		{"until (exclusive)", audit.Filter{Until: t0.Add(2 * time.Minute)}, "ba"},
		{"all together", audit.Filter{AppID: "app-1", EndUser: "alice", Action: audit.ActionSearch, Status: audit.StatusSucceeded,
			Since: t0, Until: t0.Add(time.Hour)}, "a"},
		{"nothing matches", audit.Filter{AppID: "app-2", Status: audit.StatusFailed}, ""},
	} {
		if got := details(c.filter); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}

	// The cursor goes on in the order asked for.
	first, err := repo.List(ctx, audit.Filter{OldestFirst: true, Limit: 2, EndUser: "alice"})
	if err != nil || len(first) != 2 {
		t.Fatalf("first page: %v %v", first, err)
	}
	if got := details(audit.Filter{OldestFirst: true, EndUser: "alice", AfterID: first[1].ID}); got != "df" {
		t.Fatalf("oldest first after the first page: %q", got)
	}
	if got := details(audit.Filter{EndUser: "alice", AfterID: first[1].ID}); got != "a" {
		t.Fatalf("newest first after %d: %q", first[1].ID, got)
	}
}
