package postgres_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// The database hashes an entry's content when it chains it; `audit verify`
// hashes it again in Go from the columns. Entries whose text would make a
// careless encoding ambiguous (digits and colons, multi-byte characters, no
// operation, not completed, another channel) hash alike on both sides, and
// every link the triggers wrote checks out.
func TestAuditContentHashAgreesWithTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	at := time.Date(2026, 12, 7, 3, 4, 5, 123456000, time.UTC)
	entries := []audit.Entry{
		{AppID: "app-1", Action: audit.ActionSearch, Status: audit.StatusSucceeded, RequestID: "r1", OccurredAt: at, CompletedAt: at},
		{AppID: "app-1", EndUser: "ünïcødé 🙂", Action: audit.ActionCreateMemory, Status: audit.StatusPending, RequestID: "r2",
			OperationID: "op-2", Detail: "12:34:", OccurredAt: at.Add(time.Microsecond), CorrelationID: "client-chosen", Channel: "mcp",
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{AppID: "app-2", EndUser: "1:a", Action: audit.ActionRateLimited, Status: audit.StatusFailed, RequestID: "3:r",
			Detail: "the app budget is spent", OccurredAt: at.Add(-time.Hour), CompletedAt: at},
	}
	if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		for _, e := range entries {
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The pending create ends, is failed, reopened for a replay, and ends again:
	// four forms, three of them chained (its pending form never was).
	for _, step := range []func(context.Context, command.Tx) error{
		func(ctx context.Context, tx command.Tx) error {
			return tx.CompleteAudit(ctx, "op-2", audit.StatusFailed, "memory-bank-rejected: 9:x", at.Add(time.Second))
		},
		func(ctx context.Context, tx command.Tx) error { return tx.ReopenAudit(ctx, "op-2") },
		func(ctx context.Context, tx command.Tx) error {
			return tx.CompleteAudit(ctx, "op-2", audit.StatusSucceeded, "", at.Add(2*time.Second))
		},
	} {
		if err := tr.InTx(ctx, step); err != nil {
			t.Fatal(err)
		}
	}

	repo := postgres.NewAuditRepository(pool)
	stored, err := repo.List(ctx, audit.Filter{Limit: 10})
	if err != nil || len(stored) != len(entries) {
		t.Fatalf("listed %d entries (%v), want %d", len(stored), err, len(entries))
	}
	for _, e := range stored {
		var fromSQL []byte
		if err := pool.QueryRow(ctx, `SELECT custom_gpt_audit_content(e) FROM custom_gpt_audit_entries e WHERE id = $1`, e.ID).Scan(&fromSQL); err != nil {
			t.Fatal(err)
		}
		if h := audit.ContentHash(e); !bytes.Equal(fromSQL, h[:]) {
			t.Errorf("entry %+v: the database hashes %x, Go %x", e, fromSQL, h)
		}
	}

	v, err := query.NewVerifyAuditHandler(repo, nil, nil).Handle(ctx, query.VerifyAudit{})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]int64{}
	for _, a := range v.Apps {
		if a.Break != nil {
			t.Errorf("%s: %v", a.AppID, a.Break)
		}
		links[a.AppID] = a.Links
	}
	// app-1: the search, and the create failed, reopened, succeeded; app-2: the refusal.
	if links["app-1"] != 4 || links["app-2"] != 1 || len(links) != 2 {
		t.Fatalf("links verified per app: %v", links)
	}
}

// Transactions that write entries of the same applications at once (batches
// of three API processes, each holding several applications) chain them one
// after another: no two links share a place, none is lost, no deadlock, and
// the chains verify.
func TestAuditChainHoldsUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	var batchers []*postgres.AuditBatcher
	for range 3 {
		b := postgres.NewAuditBatcher(pool, postgres.AuditBatchConfig{MaxBatch: 7}, nil, nil)
		defer b.Close()
		batchers = append(batchers, b)
	}

	const writers, each = 6, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := refusal(w*each + i)
				e.AppID = []string{"app-b", "app-a", "app-c"}[(w+i)%3]
				if err := batchers[w%len(batchers)].Append(ctx, e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, b := range batchers {
		b.Close()
	}

	repo := postgres.NewAuditRepository(pool)
	v, err := query.NewVerifyAuditHandler(repo, nil, nil).Handle(ctx, query.VerifyAudit{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, a := range v.Apps {
		if a.Break != nil {
			t.Errorf("%s: %v", a.AppID, a.Break)
		}
		total += a.Links
	}
	if total != writers*each || !v.Intact() {
		t.Fatalf("%d links verified, want %d: %+v", total, writers*each, v)
	}
}

// Entries written before the chain existed are chained by its migration, in
// id order, and verify; those still pending are chained when they end.
func TestAuditChainMigrationChainsEarlierEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, pgtest.NewURL(t), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.MigrateTo(ctx, pool, 18); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_audit_entries (app_id, action, status, request_id, operation_id, occurred_at, completed_at)
		VALUES ('app-1', 'search', 'succeeded', 'r1', NULL, now(), now()), ('app-1', 'create_memory', 'pending', 'r2', 'op-2', now(), NULL),
			('app-2', 'search', 'failed', 'r3', NULL, now(), now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	tr := postgres.NewTransactor(pool, postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil))
	if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		return tx.CompleteAudit(ctx, "op-2", audit.StatusSucceeded, "", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	v, err := query.NewVerifyAuditHandler(postgres.NewAuditRepository(pool), nil, nil).Handle(ctx, query.VerifyAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Apps) != 2 || !v.Intact() || v.Apps[0].Links != 2 || v.Apps[1].Links != 1 {
		t.Fatalf("after the migration: %+v", v)
	}
}
