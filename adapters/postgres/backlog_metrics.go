package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/scrapelog"
)

// outboxBacklogSQL counts the events in outbox rows the forwarder has not
// relayed (a bundle's row says how many it holds):
// those after its acknowledged offset, ordered as watermill-sql's own poll
// orders them (transaction id, then offset within it); no offsets row means
// nothing was relayed yet. Read laterally from the offsets row, the bound is a
// range of the primary key, not a scan of every row kept for retention.
// created_at is a timestamp without zone written in the session's zone, so
// it is read against localtimestamp.
const outboxBacklogSQL = `
	SELECT coalesce(sum(o.events), 0)::bigint, coalesce(extract(epoch FROM localtimestamp - min(o.created_at)), 0)::float8
	FROM (SELECT 1) AS one
	LEFT JOIN ` + outboxOffsetsTable + ` f ON f.consumer_group = 'forwarder'
	CROSS JOIN LATERAL (
		SELECT created_at, coalesce((metadata ->> '` + bundleKey + `')::int, 1) AS events FROM ` + outboxTable + `
		WHERE (transaction_id, "offset") > (coalesce(f.last_processed_transaction_id, '0'), coalesce(f.offset_acked, 0))) o`

// pendingOperationsSQL counts pending operations by kind, through the
// partial index of pending writes.
const pendingOperationsSQL = `
	SELECT kind, count(*), extract(epoch FROM now() - min(created_at))::float8
	FROM custom_gpt_operations WHERE status = 'pending' GROUP BY kind`

// BacklogMetrics exports, on every scrape, what waits in Postgres: outbox
// rows not yet relayed to Redis and operations not yet ended, each with the
// age of its oldest. Both are read in one round trip, bounded by a timeout; a
// scrape whose read fails leaves these metrics out.
type BacklogMetrics struct {
	pool       *pgxpool.Pool
	timeout    time.Duration
	log        *scrapelog.Log
	unrelayed  *prometheus.Desc
	relayAge   *prometheus.Desc
	pending    *prometheus.Desc
	pendingAge *prometheus.Desc
}

var _ prometheus.Collector = (*BacklogMetrics)(nil)

// NewBacklogMetrics reads pool's backlog, for at most timeout a scrape (2s
// when 0).
func NewBacklogMetrics(pool *pgxpool.Pool, timeout time.Duration, log *slog.Logger) *BacklogMetrics {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &BacklogMetrics{
		pool: pool, timeout: timeout, log: scrapelog.New(log, "custom_gpt_outbox_*, custom_gpt_operations_pending*"),
		unrelayed: prometheus.NewDesc("custom_gpt_outbox_unforwarded",
			"Events committed to the outbox and not yet relayed to their Redis stream.", nil, nil),
		relayAge: prometheus.NewDesc("custom_gpt_outbox_oldest_unforwarded_age_seconds",
			"Age of the oldest event in the outbox not yet relayed to Redis; 0 when none.", nil, nil),
		pending: prometheus.NewDesc("custom_gpt_operations_pending",
			"Operations accepted and not yet ended, by kind.", []string{"kind"}, nil),
		pendingAge: prometheus.NewDesc("custom_gpt_operations_pending_oldest_age_seconds",
			"Age of the oldest operation accepted and not yet ended, by kind; 0 when none.", []string{"kind"}, nil),
	}
}

func (m *BacklogMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.unrelayed
	ch <- m.relayAge
	ch <- m.pending
	ch <- m.pendingAge
}

func (m *BacklogMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	out, err := m.read(ctx)
	if err != nil {
		m.log.Failed(err)
		return
	}
	m.log.Succeeded()
	for _, metric := range out {
		ch <- metric
	}
}

func (m *BacklogMetrics) read(ctx context.Context) (_ []prometheus.Metric, err error) {
	batch := &pgx.Batch{}
	batch.Queue(outboxBacklogSQL)
	batch.Queue(pendingOperationsSQL)
	res := m.pool.SendBatch(ctx, batch)
	defer func() { err = errors.Join(err, res.Close()) }()

	var (
		unrelayed int64
		relayAge  float64
	)
	if err := res.QueryRow().Scan(&unrelayed, &relayAge); err != nil {
		return nil, fmt.Errorf("read the outbox backlog: %w", err)
	}
	out := []prometheus.Metric{
		prometheus.MustNewConstMetric(m.unrelayed, prometheus.GaugeValue, float64(unrelayed)),
		prometheus.MustNewConstMetric(m.relayAge, prometheus.GaugeValue, max(relayAge, 0)),
	}

	// Every kind is exported, at 0 when none of it is pending.
	type backlog struct {
		count int64
		age   float64
	}
	byKind := map[string]backlog{}
	for _, k := range events.Kinds() {
		byKind[string(k.Name)] = backlog{}
	}
	rows, err := res.Query()
	if err != nil {
		return nil, fmt.Errorf("read pending operations: %w", err)
	}
	var (
		kind string
		row  backlog
	)
	if _, err := pgx.ForEachRow(rows, []any{&kind, &row.count, &row.age}, func() error {
		byKind[kind] = row
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read pending operations: %w", err)
	}
	for k, b := range byKind {
		out = append(out,
			prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(b.count), k),
			prometheus.MustNewConstMetric(m.pendingAge, prometheus.GaugeValue, max(b.age, 0), k))
	}
	return out, nil
}
