package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// TxGroup runs the units of work of many requests in one transaction: group
// commit (command.Transactor). A unit returns only once the transaction that
// holds it has committed, as with a transaction of its own, but the units
// arriving while a commit is under way share the next one, so the database
// flushes its log, and the rows every unit locks (a scope's, for a write)
// are held, once per batch rather than once per unit. No goroutine runs in
// the background: a waiting unit becomes a writer when fewer than Writers
// are, and runs whatever is queued, its own or others'. If any unit of a
// batch fails, or its commit does, the batch is rolled back and every unit
// runs again in a transaction of its own, so a unit fails for its own
// reasons only; units must therefore do nothing but write through tx.
type TxGroup struct {
	single   *Transactor
	maxBatch int
	writers  chan struct{}
	units    prometheus.Observer // nil: not observed

	mu     sync.Mutex
	queued []*pendingUnit

	batches atomic.Int64 // for tests: how many shared transactions committed
	commits atomic.Int64 // for benchmarks: how many transactions committed, shared or not
}

// TxGroupConfig bounds the batches; zero values take the defaults.
type TxGroupConfig struct {
	// Writers is how many batches may run at once. Units that lock rows in
	// different orders (writes of several scopes) need 1: two batches could
	// otherwise wait for each other.
	Writers  int // default 1
	MaxBatch int // units per transaction; default 256
	// Units, when set, observes how many units each committed transaction
	// held: how much the group commit shares, so how often its fixed costs
	// (the flush, the audit chain's head) are paid.
	Units prometheus.Observer
}

type pendingUnit struct {
	ctx  context.Context // the caller's, for its values; never cancelled
	fn   func(ctx context.Context, tx command.Tx) error
	done chan error
	// read, when the unit records a read, is what fn writes: a batch of
	// reads alone is written in two statements instead of two per unit.
	read *readRecord
	// accept, when the unit accepts an operation, is what fn writes: a
	// batch of accepts alone is written in a handful of statements.
	accept *command.Accepted
}

// readRecord is a read's audit entry and event (RecordRead).
type readRecord struct {
	entry audit.Entry
	event any
}

// batchTimeout bounds one shared transaction.
const batchTimeout = 10 * time.Second

func NewTxGroup(single *Transactor, cfg TxGroupConfig) *TxGroup {
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	return &TxGroup{single: single, maxBatch: cfg.MaxBatch, writers: make(chan struct{}, cfg.Writers), units: cfg.Units}
}

// InTx returns once fn's writes are committed, or could not be.
func (g *TxGroup) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	return g.commit(&pendingUnit{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan error, 1)})
}

// commit queues p and returns once its batch committed, or p could not be.
func (g *TxGroup) commit(p *pendingUnit) error {
	g.mu.Lock()
	g.queued = append(g.queued, p)
	g.mu.Unlock()
	for {
		select {
		case err := <-p.done:
			return err
		case g.writers <- struct{}{}:
			batch := g.take()
			if len(batch) > 0 {
				g.run(batch)
			}
			<-g.writers
			if len(batch) == 0 {
				// Nothing queued: another writer took this unit, and will
				// tell it. Waiting here, not trying again, keeps a unit from
				// spinning while its batch commits.
				return <-p.done
			}
		}
	}
}

// RecordRead writes a read's audit entry and event (query.ReadRecorder).
func (g *TxGroup) RecordRead(ctx context.Context, e audit.Entry, event any) error {
	return g.commit(&pendingUnit{ctx: context.WithoutCancel(ctx), done: make(chan error, 1),
		read: &readRecord{entry: e, event: event},
		fn: func(ctx context.Context, tx command.Tx) error {
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
			return tx.Publish(ctx, event)
		}})
}

// take removes up to maxBatch queued units, oldest first.
func (g *TxGroup) take() []*pendingUnit {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.queued), g.maxBatch)
	batch := g.queued[:n:n]
	g.queued = g.queued[n:]
	return batch
}

// run commits the batch in one transaction, or, if that fails, each unit
// in its own, and tells every unit its outcome.
func (g *TxGroup) run(batch []*pendingUnit) {
	if len(batch) > 1 {
		if err := g.shared(batch); err == nil {
			g.committed(len(batch))
			for _, p := range batch {
				p.done <- nil
			}
			return
		}
	}
	for _, p := range batch {
		ctx, cancel := context.WithTimeout(p.ctx, batchTimeout)
		err := g.single.InTx(ctx, p.fn)
		cancel()
		if err == nil {
			g.committed(1)
		}
		p.done <- err
	}
}

// committed counts a transaction that committed units.
func (g *TxGroup) committed(units int) {
	g.commits.Add(1)
	if units > 1 {
		g.batches.Add(1)
	}
	if g.units != nil {
		g.units.Observe(float64(units))
	}
}

func (g *TxGroup) shared(batch []*pendingUnit) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if tr := g.single.tracer; tr != nil {
		members := make([]context.Context, len(batch))
		for i, p := range batch {
			members[i] = p.ctx
		}
		var span trace.Span
		ctx, span = tracing.StartBatch(ctx, tr, "postgres.group_commit", members)
		defer func() { tracing.End(span, err) }()
	}
	return inPipe(ctx, g.single.pool, func(pgtx pgx.Tx) error { return g.write(ctx, pgtx, batch) })
}

// write writes the batch: reads alone, or accepts alone, in a few
// statements; anything else a unit at a time.
func (g *TxGroup) write(ctx context.Context, pgtx pgx.Tx, batch []*pendingUnit) error {
	if reads, ok := readsOf(ctx, batch); ok {
		if err := insertAudits(ctx, pgtx, reads.entries); err != nil {
			return err
		}
		return g.single.outbox.publishAll(pgtx, reads.events)
	}
	if accepts, ok := acceptsOf(batch); ok {
		return writeAccepts(ctx, pgtx, accepts)
	}
	t := &tx{tx: pgtx, outbox: g.single.outbox}
	for _, p := range batch {
		// Each unit sees its caller's values (correlation id, channel)
		// and the batch's deadline.
		if err := p.fn(valuesOf{Context: ctx, values: p.ctx}, t); err != nil {
			return err
		}
	}
	return t.flush()
}

// valuesOf is Context with the values of another context.
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// reads is a batch of reads' records, as written together.
type reads struct {
	entries []audit.Entry
	events  []outboxEvent
}

// readsOf gathers the records of a batch made only of reads; ok is false
// when any unit is something else.
func readsOf(ctx context.Context, batch []*pendingUnit) (r reads, ok bool) {
	for _, p := range batch {
		if p.read == nil {
			return reads{}, false
		}
		r.entries = append(r.entries, p.read.entry)
		r.events = append(r.events, outboxEvent{ctx: valuesOf{Context: ctx, values: p.ctx}, event: p.read.event})
	}
	return r, true
}
