package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipeTx is a transaction that spends fewer round trips: its BEGIN travels
// with its first statement, a statement whose answer nobody reads (execLater)
// travels with the next one that is read, and the last of them with COMMIT.
// A worker's transactions are a dozen small statements each, and their round
// trips (a write and a wake-up on both sides for every one) were most of the
// worker's and much of Postgres's CPU. Statements still run one by one and in
// order, each with its own snapshot, so a lock taken by one holds for the
// next; only an error may surface at a later statement, which then reports
// the earlier one's.
type pipeTx struct {
	conn    *pgxpool.Conn
	pending []*pgx.QueuedQuery
	begun   bool  // BEGIN has gone out
	done    bool  // committed or rolled back
	failed  error // a batch that failed: what waited with it may not have run
}

var _ pgx.Tx = (*pipeTx)(nil)

// inPipe runs fn in a pipeTx on a connection of pool, and commits it when fn
// returns nil; otherwise, or if the commit fails, it rolls it back.
func inPipe(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	p := &pipeTx{conn: conn}
	defer p.release()
	defer func() { _ = p.Rollback(context.WithoutCancel(ctx)) }() // no-op after commit
	if err := fn(p); err != nil {
		return err
	}
	if err := p.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// execLater runs sql in db; in a pipeTx it goes out with the next statement
// that is read, or with COMMIT. Only for statements whose failure fails the
// transaction and whose result says nothing more: label names it in the error.
func execLater(ctx context.Context, db execer, label, sql string, args ...any) error {
	if p, ok := db.(*pipeTx); ok && !p.done {
		p.later(label, sql, args...)
		return nil
	}
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return nil
}

// queryLater runs sql in db and hands its rows to scan; in a pipeTx it goes
// out with the next statement that is read, or with COMMIT, like execLater,
// for a statement whose rows are needed only once the transaction ends. scan
// must fail only as reading fails: in a pipeTx the commit may be on its way.
func queryLater(ctx context.Context, db pgx.Tx, label, sql string, scan func(pgx.Rows) error, args ...any) error {
	read := func(rows pgx.Rows, err error) error {
		if err == nil {
			err = scan(rows)
			rows.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		return nil
	}
	if p, ok := db.(*pipeTx); ok && !p.done {
		p.pending = append(p.pending, &pgx.QueuedQuery{SQL: sql, Arguments: args, Fn: func(br pgx.BatchResults) error {
			return read(br.Query())
		}})
		return nil
	}
	return read(db.Query(ctx, sql, args...))
}

func (p *pipeTx) later(label, sql string, args ...any) {
	p.pending = append(p.pending, &pgx.QueuedQuery{SQL: sql, Arguments: args, Fn: func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		return nil
	}})
}

// batch takes BEGIN if it has not gone out, what waits, and last (if any).
func (p *pipeTx) batch(last *pgx.QueuedQuery) *pgx.Batch {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(p.pending)+2)}
	if !p.begun {
		b.Queue("begin")
		p.begun = true
	}
	b.QueuedQueries = append(b.QueuedQueries, p.pending...)
	p.pending = p.pending[:0]
	if last != nil {
		b.QueuedQueries = append(b.QueuedQueries, last)
	}
	return b
}

// roundTrip sends the batch that ends with last, and runs its callbacks in
// order: the first error stops it.
func (p *pipeTx) roundTrip(ctx context.Context, last *pgx.QueuedQuery) error {
	if p.done {
		return pgx.ErrTxClosed
	}
	b := p.batch(last)
	if len(b.QueuedQueries) == 0 {
		return nil
	}
	return p.fail(p.conn.SendBatch(ctx, b).Close())
}

// fail remembers the first failed batch, so that the transaction cannot
// commit without what waited with it: Postgres would refuse after a failed
// statement anyway, but a batch pgx could not even send failed on our side.
func (p *pipeTx) fail(err error) error {
	if err != nil && p.failed == nil {
		p.failed = err
	}
	return err
}

func (p *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := p.roundTrip(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args, Fn: func(br pgx.BatchResults) (err error) {
		tag, err = br.Exec()
		return err
	}})
	return tag, err
}

func (p *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return pipeRow{p: p, ctx: ctx, sql: sql, args: args}
}

// pipeRow sends its statement, with what waits, when it is scanned.
type pipeRow struct {
	p    *pipeTx
	ctx  context.Context
	sql  string
	args []any
}

// Scan reports no row as pgx.ErrNoRows without failing the batch: pgx
// forgets the prepared statements of a batch that failed.
func (r pipeRow) Scan(dest ...any) error {
	var noRows error
	err := r.p.roundTrip(r.ctx, &pgx.QueuedQuery{SQL: r.sql, Arguments: r.args, Fn: func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			noRows, err = err, nil
		}
		return err
	}})
	if err != nil {
		return err
	}
	return noRows
}

// Query goes out with what waits; its rows are read after the answers to
// those, and closing them ends the batch.
func (p *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if p.done {
		return nil, pgx.ErrTxClosed
	}
	b := p.batch(nil)
	if len(b.QueuedQueries) == 0 {
		return p.conn.Query(ctx, sql, args...)
	}
	earlier := len(b.QueuedQueries)
	b.Queue(sql, args...)
	br := p.conn.SendBatch(ctx, b)
	for _, qq := range b.QueuedQueries[:earlier] {
		var err error
		if qq.Fn != nil {
			err = qq.Fn(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			_ = br.Close()
			return nil, p.fail(err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, p.fail(err)
	}
	return &batchRows{Rows: rows, br: br, p: p}, nil
}

// batchRows are the rows of the last statement of a batch.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	p   *pipeTx
	err error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.br == nil {
		return
	}
	r.Rows.Close()
	r.err = r.Rows.Err()
	if err := r.br.Close(); r.err == nil {
		r.err = err
	}
	r.br = nil
	_ = r.p.fail(r.err)
}

func (r *batchRows) Err() error {
	if r.br != nil {
		return r.Rows.Err()
	}
	return r.err
}

// CopyFrom and SendBatch send what waits first: their answers are read as
// they come, outside a batch.
func (p *pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	if err := p.roundTrip(ctx, nil); err != nil {
		return 0, err
	}
	return p.conn.CopyFrom(ctx, table, columns, rows)
}

func (p *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := p.roundTrip(ctx, nil); err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return p.conn.SendBatch(ctx, b)
}

// Commit sends what waits and COMMIT in one batch; a transaction that sent
// nothing has nothing to commit. A COMMIT answered ROLLBACK (the transaction
// had failed) is pgx.ErrTxCommitRollback, as pgx's own Commit reports it.
func (p *pipeTx) Commit(ctx context.Context) error {
	if p.done {
		return pgx.ErrTxClosed
	}
	if p.failed != nil {
		return fmt.Errorf("a statement of the transaction failed: %w", p.failed)
	}
	if !p.begun && len(p.pending) == 0 {
		p.done = true
		return nil
	}
	err := p.roundTrip(ctx, &pgx.QueuedQuery{SQL: "commit", Fn: func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil && tag.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback
		}
		return err
	}})
	if err == nil {
		p.done = true
	}
	return err
}

// Rollback drops what waits and ends the transaction; safe after Commit.
func (p *pipeTx) Rollback(ctx context.Context) error {
	if p.done {
		return nil
	}
	p.done, p.pending = true, nil
	if p.conn.Conn().PgConn().TxStatus() == 'I' {
		return nil
	}
	_, err := p.conn.Exec(ctx, "rollback")
	return err
}

// release gives the connection back; one left inside a transaction (a
// rollback that failed) is closed by the pool rather than reused.
func (p *pipeTx) release() { p.conn.Release() }

func (p *pipeTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("postgres: nested transactions are not used here")
}

func (p *pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (p *pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return p.conn.Conn().Prepare(ctx, name, sql)
}

func (p *pipeTx) Conn() *pgx.Conn { return p.conn.Conn() }
