package postgres

import (
	"context"
	"encoding/json"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
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

// OutboxEvents is every event in the outbox, in the order the relay reads
// them, as it would publish them: out of Watermill's forwarder envelope and,
// when bundled, out of their bundle.
func OutboxEvents(ctx context.Context, pool *pgxpool.Pool) ([]*message.Message, error) {
	rows, err := pool.Query(ctx, `SELECT payload FROM `+outboxTable+` ORDER BY transaction_id, "offset"`)
	if err != nil {
		return nil, err
	}
	envelopes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	var got collected
	for _, raw := range envelopes {
		var e struct {
			UUID     string            `json:"uuid"`
			Payload  []byte            `json:"payload"`
			Metadata map[string]string `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		m := message.NewMessage(e.UUID, e.Payload)
		m.Metadata = e.Metadata
		if err := (unbundling{&got}).Publish("", m); err != nil {
			return nil, err
		}
	}
	return got.msgs, nil
}

// collected is a publisher that keeps what it is given.
type collected struct{ msgs []*message.Message }

func (c *collected) Publish(_ string, msgs ...*message.Message) error {
	c.msgs = append(c.msgs, msgs...)
	return nil
}

func (c *collected) Close() error { return nil }
