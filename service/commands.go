package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
)

// commandQueue queues each command once its operation committed, and notes
// which stream entry it became. The request that accepted the operation does
// not wait for it: its 202 rests on the commit, which kept a copy of the
// command. Commands queued meanwhile go together, in one Redis round trip
// and one Postgres statement. A command that cannot be queued is a warning,
// not a failure: ResendLostCommands sends it again from its operation's copy,
// as it does for commands still here when the process dies.
type commandQueue struct {
	bus     *redis.CommandBus
	entries *postgres.CommandEntries
	log     *slog.Logger
	failed  prometheus.Counter

	mu       sync.Mutex
	queued   []redis.Pending
	draining bool
	closed   bool
	drained  sync.WaitGroup
}

const (
	// maxQueuedCommands bounds what waits in memory; past it, a command is
	// sent by the request itself, which slows the requests down rather than
	// letting memory grow.
	maxQueuedCommands = 10_000
	// commandBatch bounds one round trip.
	commandBatch = 256
	// flushTimeout bounds the last batches at shutdown.
	flushTimeout = 5 * time.Second
)

func newCommandQueue(bus *redis.CommandBus, entries *postgres.CommandEntries, log *slog.Logger, reg prometheus.Registerer) *commandQueue {
	failed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "custom_gpt_commands_unqueued_total",
		Help: "Commands of committed operations that could not be queued in Redis at once; each is sent again from its operation's copy.",
	})
	failed, _ = promreg.Register(reg, failed)
	return &commandQueue{bus: bus, entries: entries, log: log, failed: failed}
}

// Send hands cmd over to be queued soon; a drain runs while any wait.
func (q *commandQueue) Send(ctx context.Context, cmd any) error {
	p := redis.Pending{Ctx: context.WithoutCancel(ctx), Cmd: cmd}
	q.mu.Lock()
	if q.closed || len(q.queued) >= maxQueuedCommands {
		q.mu.Unlock()
		q.send([]redis.Pending{p})
		return nil
	}
	q.queued = append(q.queued, p)
	if !q.draining {
		q.draining = true
		q.drained.Add(1)
		go q.drain()
	}
	q.mu.Unlock()
	return nil
}

// drain sends what is queued, a batch at a time, until nothing is.
func (q *commandQueue) drain() {
	defer q.drained.Done()
	for {
		q.mu.Lock()
		n := min(len(q.queued), commandBatch)
		if n == 0 {
			q.draining = false
			q.mu.Unlock()
			return
		}
		batch := q.queued[:n:n]
		q.queued = q.queued[n:]
		q.mu.Unlock()
		q.send(batch)
	}
}

// send queues a batch and notes the entries of those that were.
func (q *commandQueue) send(batch []redis.Pending) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	entries, errs := q.bus.SendAll(ctx, batch)
	var ops, sent []string
	for i, p := range batch {
		if errs[i] != nil {
			q.failed.Inc()
			q.log.WarnContext(p.Ctx, "a command could not be queued; it will be sent again from its operation",
				"command", events.Name(p.Cmd), "operation_id", events.OperationID(p.Cmd), "error", errs[i])
			continue
		}
		if id := events.OperationID(p.Cmd); id != "" {
			ops, sent = append(ops, id), append(sent, entries[i])
		}
	}
	if len(ops) == 0 {
		return
	}
	if err := q.entries.RecordAll(ctx, ops, sent); err != nil {
		q.log.WarnContext(ctx, "the stream entries of queued commands could not be noted", "commands", len(ops), "error", err)
	}
}

// Close sends what is still queued, and from then on each command at once.
func (q *commandQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.drained.Wait()
}
