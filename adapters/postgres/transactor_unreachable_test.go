package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
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

	down := postgres.NewTransactor(unreachablePool(t), postgres.NewOutbox(events.Topics{Prefix: "test"}, messaging.Marshaler, nil))
	err = down.InTx(ctx, func(context.Context, command.Tx) error {
		t.Error("the transaction ran without a database")
		return nil
	})
	if !errors.Is(err, command.ErrStoreUnavailable) || !command.IsRetryLater(err) || command.RetryAfter(err) <= 0 {
		t.Fatalf("transaction on an unreachable database: %v; want a paced retry-later", err)
	}
}

// unreachablePool is a pool for a database nobody answers for: a loopback port
// that was just closed.
func unreachablePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+addr+"/test?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
