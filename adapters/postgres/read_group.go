package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// ReadGroup records reads (query.ReadRecorder) many per transaction: group
// commit. A search still gets its answer only once its audit entry and event
// are committed, but the reads that arrive while a commit is under way share
// the next one, so the database flushes its log once per batch rather than
// once per read. No goroutine runs in the background: a waiting read becomes
// a writer when fewer than Writers are, and writes whatever is queued, its
// own or others'. A batch that fails is written again one read per
// transaction, so one bad entry fails its own read only.
type ReadGroup struct {
	pool     *pgxpool.Pool
	outbox   *Outbox
	maxBatch int
	writers  chan struct{}

	mu     sync.Mutex
	queued []*pendingRead

	batches countingStat // for tests: how many transactions wrote reads
}

// ReadGroupConfig bounds the batches; zero values take the defaults.
type ReadGroupConfig struct {
	Writers  int // transactions under way at once; default 4
	MaxBatch int // reads per transaction; default 256
}

type pendingRead struct {
	ctx   context.Context // the read's, for its correlation id; never cancelled
	entry audit.Entry
	event any
	done  chan error
}

// writeTimeout bounds one batch's transaction.
const writeTimeout = 10 * time.Second

func NewReadGroup(pool *pgxpool.Pool, outbox *Outbox, cfg ReadGroupConfig) *ReadGroup {
	if cfg.Writers <= 0 {
		cfg.Writers = 4
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	return &ReadGroup{pool: pool, outbox: outbox, maxBatch: cfg.MaxBatch, writers: make(chan struct{}, cfg.Writers)}
}

// RecordRead returns once the read's audit entry and event are committed, or
// could not be.
func (g *ReadGroup) RecordRead(ctx context.Context, e audit.Entry, event any) error {
	p := &pendingRead{ctx: context.WithoutCancel(ctx), entry: e, event: event, done: make(chan error, 1)}
	g.mu.Lock()
	g.queued = append(g.queued, p)
	g.mu.Unlock()
	for {
		select {
		case err := <-p.done:
			return err
		case g.writers <- struct{}{}:
			if batch := g.take(); len(batch) > 0 {
				g.write(batch)
			}
			<-g.writers
		}
	}
}

// take removes up to maxBatch queued reads, oldest first.
func (g *ReadGroup) take() []*pendingRead {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.queued), g.maxBatch)
	batch := g.queued[:n:n]
	g.queued = g.queued[n:]
	return batch
}

// write commits the batch in one transaction, or, if that fails, each read
// in its own, and tells every read its outcome.
func (g *ReadGroup) write(batch []*pendingRead) {
	err := g.writeTx(batch)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for _, p := range batch {
		p.done <- g.writeTx([]*pendingRead{p})
	}
}

func (g *ReadGroup) writeTx(batch []*pendingRead) error {
	g.batches.add()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // no-op after commit
	for _, p := range batch {
		if err := insertAudit(ctx, tx, p.entry); err != nil {
			return err
		}
		// The event's context carries the read's values (its correlation
		// id) and the batch's deadline.
		if err := g.outbox.publish(valuesOf{Context: ctx, values: p.ctx}, tx, p.event); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// valuesOf is Context with the values of another context.
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// countingStat is a counter safe for concurrent use.
type countingStat struct {
	mu sync.Mutex
	n  int
}

func (c *countingStat) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *countingStat) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
