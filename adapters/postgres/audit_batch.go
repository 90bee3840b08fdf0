package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// AuditBatcher writes audit entries that need no transaction of their own (a
// refused request's, say) a moment later and many per statement, so a client
// flooding past its rate limit costs Postgres a few commits a second rather
// than one per request, and cannot slow the database for everyone else.
// Entries still in memory when the process dies are lost: up to MaxDelay's worth.
type AuditBatcher struct {
	pool *pgxpool.Pool
	cfg  AuditBatchConfig
	log  *slog.Logger

	mu      sync.Mutex
	pending []audit.Entry
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	closed  bool
	dropped prometheus.Counter
	written prometheus.Counter
}

// AuditBatchConfig bounds how long and how many entries wait.
type AuditBatchConfig struct {
	MaxDelay time.Duration // the longest an entry waits before it is written
	MaxBatch int           // entries per statement; a full batch is written at once
	MaxQueue int           // entries kept while Postgres is unreachable; more are dropped and counted
}

func (c AuditBatchConfig) withDefaults() AuditBatchConfig {
	if c.MaxDelay <= 0 {
		c.MaxDelay = 100 * time.Millisecond
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 500
	}
	if c.MaxQueue < c.MaxBatch {
		c.MaxQueue = 100 * c.MaxBatch
	}
	return c
}

// NewAuditBatcher starts writing in the background until Close.
func NewAuditBatcher(pool *pgxpool.Pool, cfg AuditBatchConfig, log *slog.Logger, reg prometheus.Registerer) *AuditBatcher {
	b := &AuditBatcher{
		pool: pool, cfg: cfg.withDefaults(), log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_audit_batch_dropped_total",
			Help: "Batched audit entries (refused requests) dropped because Postgres stayed unreachable and the queue was full.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_audit_batch_written_total",
			Help: "Batched audit entries (refused requests) written.",
		}),
	}
	if reg != nil {
		reg.MustRegister(b.dropped, b.written)
	}
	go b.run()
	return b
}

// Append queues e; it never waits for Postgres.
func (b *AuditBatcher) Append(_ context.Context, e audit.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("append audit entry: batcher closed")
	}
	if len(b.pending) >= b.cfg.MaxQueue {
		b.dropped.Inc()
		return fmt.Errorf("append audit entry: %d entries already wait for Postgres", len(b.pending))
	}
	b.pending = append(b.pending, e)
	if len(b.pending) >= b.cfg.MaxBatch {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Close writes what is queued (within a few seconds) and stops.
func (b *AuditBatcher) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
}

func (b *AuditBatcher) run() {
	defer close(b.done)
	tick := time.NewTicker(b.cfg.MaxDelay)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			for b.flush(ctx) > 0 && ctx.Err() == nil {
			}
			cancel()
			return
		case <-tick.C:
		case <-b.wake:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for b.flush(ctx) >= b.cfg.MaxBatch { // a backlog: keep writing full batches
		}
		cancel()
	}
}

// flush writes up to one batch and returns how many it wrote. On failure the
// batch goes back to the front of the queue for the next tick.
func (b *AuditBatcher) flush(ctx context.Context) int {
	b.mu.Lock()
	n := min(len(b.pending), b.cfg.MaxBatch)
	batch := append([]audit.Entry(nil), b.pending[:n]...)
	b.mu.Unlock()
	if n == 0 {
		return 0
	}
	if err := b.write(ctx, batch); err != nil {
		if b.log != nil {
			b.log.Warn("write batched audit entries", "entries", n, "error", err)
		}
		return 0
	}
	b.mu.Lock()
	b.pending = append(b.pending[:0], b.pending[n:]...)
	b.mu.Unlock()
	b.written.Add(float64(n))
	return n
}

func (b *AuditBatcher) write(ctx context.Context, batch []audit.Entry) error {
	return insertAudits(ctx, b.pool, batch)
}
