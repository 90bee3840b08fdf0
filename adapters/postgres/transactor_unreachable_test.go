package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// A worker must wait out a database outage rather than spend a command's
// retries on it, so the transactor tells an unreachable database apart from a
// transaction that failed on its own.
func TestTransactorTellsAnUnreachableDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	up, _ := newTransactor(t)
	refused := errors.New("a rule refused the change")
	err := up.InTx(ctx, func(context.Context, command.Tx) error { return refused })
	if !errors.Is(err, refused) || errors.Is(err, command.ErrStoreUnavailable) {
		t.Fatalf("failed transaction on a reachable database: %v", err)
	}

	down := postgres.NewTransactor(unreachablePool(t), postgres.NewOutbox(events.Topics{Prefix: "test"}, events.Marshaler, nil))
	err = down.InTx(ctx, func(context.Context, command.Tx) error {
		t.Error("the transaction ran without a database")
		return nil
	})
	if !errors.Is(err, command.ErrStoreUnavailable) || !command.IsRetryLater(err) || command.RetryAfter(err) <= 0 {
		t.Fatalf("transaction on an unreachable database: %v; want a paced retry-later", err)
	}
}

// unreachablePool is a pool for a database nobody answers for: a Unix socket
// in an empty directory of the test's own. A loopback port closed for the
// purpose could be taken by another test's server meanwhile.
func unreachablePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dir := addrtest.SocketDir(t)
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@/test?connect_timeout=2&host="+url.QueryEscape(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// A database that answers "not now" (shutting down, starting, out of
// connections, read-only during a failover, or a transaction that lost a race)
// holds a command like an unreachable one; any other refusal does not.
func TestTransactorTreatsNotNowAnswersAsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, _ := newTransactor(t)
	for _, code := range []string{"57P01", "57P03", "53300", "25006", "40001", "40P01"} {
		err := tr.InTx(ctx, func(context.Context, command.Tx) error {
			return fmt.Errorf("statement: %w", &pgconn.PgError{Code: code, Message: "not now"})
		})
		if !errors.Is(err, command.ErrStoreUnavailable) || !command.IsRetryLater(err) {
			t.Errorf("SQLSTATE %s: %v, want the store unavailable", code, err)
		}
	}
	err := tr.InTx(ctx, func(context.Context, command.Tx) error {
		return &pgconn.PgError{Code: "23505", Message: "duplicate key"}
	})
	if errors.Is(err, command.ErrStoreUnavailable) {
		t.Errorf("a unique violation was taken for an unavailable store: %v", err)
	}

	// A real one: a session that can only read, as a standby or a demoted primary.
	_, dbURL := pgtest.NewPool(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	readOnly, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readOnly.Close)
	ro := postgres.NewTransactor(readOnly, postgres.NewOutbox(events.Topics{Prefix: "test"}, events.Marshaler, nil))
	err = ro.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		return tx.InsertAudit(ctx, audit.Entry{AppID: "app", Action: audit.ActionSearch, Status: audit.StatusSucceeded, RequestID: "r", OccurredAt: time.Now()})
	})
	if !errors.Is(err, command.ErrStoreUnavailable) {
		t.Fatalf("a write on a read-only session: %v, want the store unavailable", err)
	}
}
