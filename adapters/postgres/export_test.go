package postgres

import (
	"context"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/stoplog"
)

// MigrateTo applies migrations up to version, to test what a later one does
// to data written before it.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	p, db, err := provider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = p.UpTo(ctx, version)
	return err
}

// SigningKeyPlace is what a private key is sealed for, to store keys the way
// the store does.
var SigningKeyPlace = signingKeyPlace

// SearchRanking searches as Search does, ranking the newest candidates
// matches, so a test can pass that bound with a few memories.
func (b *EmbeddedMemoryBank) SearchRanking(ctx context.Context, scope memory.Scope, q memory.Query, candidates int) ([]memory.Hit, error) {
	return b.search(ctx, scope, q, candidates)
}

// Batches tells how many shared transactions the group has committed.
func (g *TxGroup) Batches() int { return int(g.batches.Load()) }

func (g *TxGroup) Commits() int { return int(g.commits.Load()) }

// RelayLogger is the logger the outbox relay's subscriber logs through.
func RelayLogger(l watermill.LoggerAdapter) watermill.LoggerAdapter {
	return stoplog.Logger{LoggerAdapter: l, Stopping: relayStopping}
}

// ExecLater is execLater: a statement that goes out with the next one read.
var ExecLater = execLater

// InPipe runs fn in a transaction that spends fewer round trips (pipeTx),
// as Transactor.InTx does, and commits it when fn returns nil.
var InPipe = inPipe

// InPlainTx runs fn as command.Tx in a pgx transaction that sends every
// statement on its own (what InTx did before pipeTx), to measure the difference.
func (t *Transactor) InPlainTx(ctx context.Context, fn func(context.Context, command.Tx) error) error {
	return pgx.BeginFunc(ctx, t.pool, func(pgtx pgx.Tx) error { return fn(ctx, &tx{tx: pgtx, outbox: t.outbox}) })
}

// The statements that ask whether a scope's write waits behind a pending one.
var (
	WaitForEarlierSQL   = waitForEarlierSQL
	PendingAfterSQL     = pendingAfterSQL
	InsertOperationsSQL = insertOperationsSQL
)
