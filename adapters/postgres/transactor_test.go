package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func newTransactor(t testing.TB) (*postgres.Transactor, *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	_, hash := application.NewAPIKey()
	app, _ := application.New("app-1", "Test", hash, time.Now())
	if err := postgres.NewApplicationRepository(pool).Add(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	outbox := postgres.NewOutbox(events.Topics{Prefix: "test"}, events.Marshaler, nil)
	return postgres.NewTransactor(pool, outbox), pool
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTransactorCommitsOperationAuditAndEventTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	now := time.Now().UTC()
	op, _ := operation.New("op-1", "app-1", "", operation.KindCreateMemory, now)

	err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertOperation(ctx, op, nil); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, audit.Entry{AppID: "app-1", Action: audit.ActionCreateMemory, Status: audit.StatusPending, RequestID: "r1", OperationID: "op-1", OccurredAt: now}); err != nil {
			return err
		}
		return tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: "op-1"})
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if count(t, pool, "custom_gpt_operations") != 1 || count(t, pool, "custom_gpt_audit_entries") != 1 || count(t, pool, "custom_gpt_outbox") != 1 {
		t.Fatal("committed transaction did not write operation, audit and outbox row")
	}

	// A failing transaction leaves nothing behind, its outbox event included.
	boom := errors.New("boom")
	op2, _ := operation.New("op-2", "app-1", "", operation.KindCreateMemory, now)
	err = tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertOperation(ctx, op2, nil); err != nil {
			return err
		}
		if err := tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: "op-2"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	if count(t, pool, "custom_gpt_operations") != 1 || count(t, pool, "custom_gpt_outbox") != 1 {
		t.Fatal("rolled back transaction left rows behind")
	}

	got, err := postgres.NewOperationRepository(pool).Get(ctx, "op-1")
	if err != nil || got.Status() != operation.StatusPending || got.AppID() != "app-1" {
		t.Fatalf("get: %v %+v", err, got)
	}
	if _, err := postgres.NewOperationRepository(pool).Get(ctx, "op-2"); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("rolled back op: want not found, got %v", err)
	}
}

func TestOperationRoundTripAndAuditCompletesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	op, _ := operation.New("op-1", "app-1", "user-9", operation.KindCreateMemory, now)
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertOperation(ctx, op, nil); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit.Entry{AppID: "app-1", EndUser: "user-9", Action: audit.ActionCreateMemory, Status: audit.StatusPending, RequestID: "r1", OperationID: "op-1", OccurredAt: now})
	})

	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-1")
		if err != nil {
			return err
		}
		if err := op.Claim(now, time.Minute); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})
	for _, status := range []audit.Status{audit.StatusSucceeded, audit.StatusFailed} {
		mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
			op, err := tx.LockOperation(ctx, "op-1")
			if err != nil {
				return err
			}
			if !op.IsTerminal() {
				if err := op.Fail(operation.Failure{Code: "c", Detail: "d"}, now); err != nil {
					return err
				}
				if err := tx.SaveOperation(ctx, op); err != nil {
					return err
				}
			}
			return tx.CompleteAudit(ctx, "op-1", status, "detail", now)
		})
	}

	got, err := postgres.NewOperationRepository(pool).Get(ctx, "op-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != operation.StatusFailed || got.Failure() == nil || got.Failure().Code != "c" || got.Attempts() != 1 || got.EndUser() != "user-9" {
		t.Fatalf("round trip lost state: %+v", got)
	}
	entries, err := postgres.NewAuditRepository(pool).List(ctx, audit.Filter{Limit: 10})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v %d", err, len(entries))
	}
	if entries[0].Status != audit.StatusSucceeded || entries[0].CompletedAt.IsZero() {
		t.Fatalf("the first completion must stick, got %+v", entries[0])
	}
}

func TestAuditListPagesNewestFirstAndFiltersByApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	now := time.Now().UTC()
	for i, app := range []string{"app-1", "app-2", "app-1", "app-1"} {
		mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
			return tx.InsertAudit(ctx, audit.Entry{AppID: app, Action: audit.ActionSearch, Status: audit.StatusSucceeded, RequestID: string(rune('a' + i)), OccurredAt: now})
		})
	}
	repo := postgres.NewAuditRepository(pool)
	first, err := repo.List(ctx, audit.Filter{AppID: "app-1", Limit: 2})
	if err != nil || len(first) != 2 || first[0].RequestID != "d" || first[1].RequestID != "c" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	rest, err := repo.List(ctx, audit.Filter{AppID: "app-1", Limit: 2, AfterID: first[1].ID})
	if err != nil || len(rest) != 1 || rest[0].RequestID != "a" {
		t.Fatalf("second page: %v %+v", err, rest)
	}
	all, _ := repo.List(ctx, audit.Filter{Limit: 10})
	if len(all) != 4 {
		t.Fatalf("unfiltered: %d entries", len(all))
	}
}

func mustTx(t *testing.T, tr *postgres.Transactor, fn func(context.Context, command.Tx) error) {
	t.Helper()
	if err := tr.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestForgetOperationKeepsItsRemovedCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	forget, _ := operation.New("op-forget", "app-1", "user-1", operation.KindForgetMemories, now)
	update, _ := operation.New("op-update", "app-1", "user-1", operation.KindUpdateMemory, now)
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertOperation(ctx, forget, nil); err != nil {
			return err
		}
		return tx.InsertOperation(ctx, update, nil)
	})
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-forget")
		if err != nil {
			return err
		}
		if err := op.SucceedRemoved(42, now); err != nil {
			return err
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return err
		}
		op, err = tx.LockOperation(ctx, "op-update")
		if err != nil {
			return err
		}
		if err := op.Succeed([]string{"mem-1"}, now); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})

	repo := postgres.NewOperationRepository(pool)
	got, err := repo.Get(ctx, "op-forget")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind() != operation.KindForgetMemories || got.Status() != operation.StatusSucceeded || got.Removed() != 42 || len(got.MemoryIDs()) != 0 {
		t.Fatalf("forget operation = %s %s removed %d ids %v", got.Kind(), got.Status(), got.Removed(), got.MemoryIDs())
	}
	got, err = repo.Get(ctx, "op-update")
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind() != operation.KindUpdateMemory || got.Removed() != 0 || len(got.MemoryIDs()) != 1 || got.MemoryIDs()[0] != "mem-1" {
		t.Fatalf("update operation = %s removed %d ids %v", got.Kind(), got.Removed(), got.MemoryIDs())
	}
}

func TestRecordReadWritesAuditAndEventTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	now := time.Now().UTC()
	entry := audit.Entry{AppID: "app-1", EndUser: "user-1", Action: audit.ActionGetMemory, Status: audit.StatusSucceeded,
		RequestID: "r1", OccurredAt: now, CompletedAt: now}

	if err := tr.RecordRead(ctx, entry, &events.MemoryRead{Version: events.Version, AppID: "app-1", MemoryID: "m-1", Succeeded: true}); err != nil {
		t.Fatalf("RecordRead: %v", err)
	}
	if count(t, pool, "custom_gpt_audit_entries") != 1 || count(t, pool, "custom_gpt_outbox") != 1 {
		t.Fatal("the read's audit entry and event were not both written")
	}
	// An event the outbox cannot encode takes the audit entry down with it.
	if err := tr.RecordRead(ctx, entry, func() {}); err == nil {
		t.Fatal("RecordRead of an unencodable event succeeded")
	}
	if count(t, pool, "custom_gpt_audit_entries") != 1 || count(t, pool, "custom_gpt_outbox") != 1 {
		t.Fatal("a failed RecordRead left rows behind")
	}
	entries, err := postgres.NewAuditRepository(pool).List(ctx, audit.Filter{Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].Action != audit.ActionGetMemory || entries[0].EndUser != "user-1" {
		t.Fatalf("audit: %v %+v", err, entries)
	}
}
