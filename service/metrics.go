package service

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
)

// registerWorkerMetrics adds the collectors of what a worker drains: the
// streams it reads (and the dead letters among them), the outbox it relays
// and the operations it runs. They read Redis and Postgres on each scrape,
// so only workers export them: each of a deployment's workers reports the
// same backlog, and API instances report none.
func registerWorkerMetrics(in *Infrastructure, cfg Config, log *slog.Logger) error {
	topics := cfg.topics()
	var streams []redis.StreamGroup
	for _, c := range messaging.ConsumedStreams(topics) {
		streams = append(streams, redis.StreamGroup{Stream: c.Stream, Group: c.Group})
	}
	for _, c := range []prometheus.Collector{
		redis.NewStreamMetrics(in.Redis, redis.StreamMetricsConfig{Streams: streams, DeadLetters: topics.Poison(), Log: log}),
		postgres.NewBacklogMetrics(in.Pool, 0, log),
	} {
		// A second worker of one process (component tests) finds them there.
		if _, err := promreg.Register(in.Registry, c); err != nil {
			return err
		}
	}
	return nil
}

// groupCommitUnits counts, per group commit (reads, accepts), how many
// requests each transaction held: batches of one at a steady load mean each
// request pays the commit's flush and the audit chain's head alone.
func groupCommitUnits(reg prometheus.Registerer) *prometheus.HistogramVec {
	units := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "custom_gpt_group_commit_units",
		Help:    "Requests written by each transaction of a group commit (reads: searches' and listings' audit entries and events; accepts: accepted writes).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 .. 256, the largest batch
	}, []string{"group"})
	// A second application of one process (component tests) shares the first's.
	units, _ = promreg.Register(reg, units)
	return units
}
