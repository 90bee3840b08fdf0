package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func newPipePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE pipe_rows (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func pipeRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pipe_rows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantRefused checks that a transaction failed, with the Postgres error code
// (when not "") and naming what (when not ""), and wrote no row.
func wantRefused(t *testing.T, pool *pgxpool.Pool, err error, code, what string) {
	t.Helper()
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		t.Fatal("the transaction committed")
	case code != "" && (!errors.As(err, &pgErr) || pgErr.Code != code):
		t.Fatalf("want SQLSTATE %s, got %v", code, err)
	case !strings.Contains(err.Error(), what):
		t.Fatalf("the error does not name %q: %v", what, err)
	}
	if n := pipeRows(t, pool); n != 0 {
		t.Fatalf("%d rows written by a transaction that failed", n)
	}
}

func TestPipeStatementsSentLaterTakeEffectInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	var seen int
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		for _, n := range []int{1, 2} {
			if err := postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES ($1)`, n); err != nil {
				return err
			}
		}
		// The read goes out with both inserts and runs after them.
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pipe_rows`).Scan(&seen); err != nil {
			return err
		}
		// The last one goes out with COMMIT.
		return postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (3)`)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 2 {
		t.Fatalf("the read saw %d rows, want the 2 inserted before it", seen)
	}
	if n := pipeRows(t, pool); n != 3 {
		t.Fatalf("%d rows after commit, want 3", n)
	}
}

func TestPipeFailureOfALaterStatementFailsTheNextAndWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		_ = postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (1)`)
		_ = postgres.ExecLater(ctx, tx, "the duplicate", `INSERT INTO pipe_rows VALUES (1)`)
		var one int
		return tx.QueryRow(ctx, `SELECT 1`).Scan(&one)
	})
	wantRefused(t, pool, err, "23505", "the duplicate")

	// Failing at COMMIT: the same, and the connection is clean again.
	err = postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		_ = postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (1)`)
		return postgres.ExecLater(ctx, tx, "the duplicate", `INSERT INTO pipe_rows VALUES (1)`)
	})
	wantRefused(t, pool, err, "23505", "the duplicate")
}

func TestPipeCommitOfAFailedTransactionIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pipe_rows VALUES (1)`); err != nil {
			return err
		}
		_, _ = tx.Exec(ctx, `SELECT 1/0`) // a caller that ignores the failure
		return nil
	})
	wantRefused(t, pool, err, "22012", "")
}

func TestPipeNoRowIsNoFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT n FROM pipe_rows WHERE n = 42`).Scan(&n); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("want pgx.ErrNoRows, got %v", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO pipe_rows VALUES (1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := pipeRows(t, pool); n != 1 {
		t.Fatalf("%d rows, want the one inserted after the empty read", n)
	}
}

func TestPipeQueryAndCopySendWhatWaitsFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	var listed []int
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		_ = postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (1)`)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pipe_rows"}, []string{"n"}, pgx.CopyFromRows([][]any{{2}, {3}})); err != nil {
			return err
		}
		_ = postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (4)`)
		rows, err := tx.Query(ctx, `SELECT n FROM pipe_rows ORDER BY n`)
		if err != nil {
			return err
		}
		listed, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 4 || listed[0] != 1 || listed[3] != 4 {
		t.Fatalf("listed %v, want 1 to 4", listed)
	}
}

func TestPipeBatchThatCouldNotBeSentCannotCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPipePool(t)
	err := postgres.InPipe(ctx, pool, func(tx pgx.Tx) error {
		_ = postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (1)`)
		// pgx cannot encode a channel: the batch, the insert in it, never
		// leaves. A caller that shrugs this off must not commit without it.
		var n int
		_ = tx.QueryRow(ctx, `SELECT $1::int`, make(chan int)).Scan(&n)
		return postgres.ExecLater(ctx, tx, "insert", `INSERT INTO pipe_rows VALUES (2)`)
	})
	wantRefused(t, pool, err, "", "")
}
