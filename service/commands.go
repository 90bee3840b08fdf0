package service

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// commandQueue queues each command once its operation committed and notes
// which stream entry it became. A command that cannot be queued is a warning,
// not a failure of the request: its operation keeps the command, and
// ResendLostCommands sends it again.
type commandQueue struct {
	bus     *redis.CommandBus
	entries *postgres.CommandEntries
	log     *slog.Logger
	failed  prometheus.Counter
}

func newCommandQueue(bus *redis.CommandBus, entries *postgres.CommandEntries, log *slog.Logger, reg prometheus.Registerer) *commandQueue {
	failed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "custom_gpt_commands_unqueued_total",
		Help: "Commands of committed operations that could not be queued in Redis at once; each is sent again from its operation's copy.",
	})
	if err := reg.Register(failed); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			failed = are.ExistingCollector.(prometheus.Counter)
		}
	}
	return &commandQueue{bus: bus, entries: entries, log: log, failed: failed}
}

func (q *commandQueue) Send(ctx context.Context, cmd any) error {
	entry, err := q.bus.Send(ctx, cmd)
	if err != nil {
		q.failed.Inc()
		q.log.WarnContext(ctx, "a command could not be queued; it will be sent again from its operation",
			"command", events.Name(cmd), "operation_id", events.OperationID(cmd), "error", err)
		return err
	}
	if id := events.OperationID(cmd); id != "" {
		if err := q.entries.Record(ctx, id, entry); err != nil {
			q.log.WarnContext(ctx, "the stream entry of a queued command could not be noted",
				"operation_id", id, "error", err)
		}
	}
	return nil
}
