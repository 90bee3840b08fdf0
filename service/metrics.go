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
