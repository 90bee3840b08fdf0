package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/scrapelog"
)

// StreamGroup is a stream and a consumer group that reads it.
type StreamGroup struct{ Stream, Group string }

// StreamMetricsConfig says what StreamMetrics reads.
type StreamMetricsConfig struct {
	Streams []StreamGroup
	// DeadLetters is the poison stream, one of Streams, whose length is also
	// exported as custom_gpt_dead_letters.
	DeadLetters string
	// Timeout bounds each scrape's reads; 2s when 0.
	Timeout time.Duration
	Log     *slog.Logger
}

// StreamMetrics exports, on every scrape, each stream's length (XLEN) and
// each group's pending entries and the age of its oldest one (XPENDING's
// summary: its lowest id holds the time the entry was added). It costs one
// round trip of O(1) commands per stream and group, pipelined. A scrape whose
// reads fail leaves these metrics out rather than export a wrong value.
type StreamMetrics struct {
	client  goredis.UniversalClient
	cfg     StreamMetricsConfig
	log     *scrapelog.Log
	length  *prometheus.Desc
	pending *prometheus.Desc
	oldest  *prometheus.Desc
	dead    *prometheus.Desc
}

var _ prometheus.Collector = (*StreamMetrics)(nil)

// NewStreamMetrics reads the streams of cfg with client.
func NewStreamMetrics(client goredis.UniversalClient, cfg StreamMetricsConfig) *StreamMetrics {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	return &StreamMetrics{
		client: client, cfg: cfg, log: scrapelog.New(cfg.Log, "custom_gpt_stream_*"),
		length: prometheus.NewDesc("custom_gpt_stream_length",
			"Entries in a Redis stream the worker reads (XLEN). Command streams are trimmed of what was acknowledged; "+
				"event streams are capped (CUSTOM_GPT_EVENT_STREAM_MAXLEN).", []string{"stream"}, nil),
		pending: prometheus.NewDesc("custom_gpt_stream_pending",
			"Entries delivered to a consumer group and not yet acknowledged (XPENDING).", []string{"stream", "group"}, nil),
		oldest: prometheus.NewDesc("custom_gpt_stream_oldest_pending_age_seconds",
			"Age of the oldest entry a consumer group has not acknowledged, from when it was added to the stream; 0 when none.",
			[]string{"stream", "group"}, nil),
		dead: prometheus.NewDesc("custom_gpt_dead_letters",
			"Commands parked on the poison stream, waiting for a replay (dlq replay) or their retention to end.", nil, nil),
	}
}

func (m *StreamMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.length
	ch <- m.pending
	ch <- m.oldest
	ch <- m.dead
}

func (m *StreamMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
	defer cancel()
	pipe := m.client.Pipeline()
	lengths := map[string]*goredis.IntCmd{}
	var streams []string // in order, each once
	pending := make([]*goredis.XPendingCmd, len(m.cfg.Streams))
	for i, sg := range m.cfg.Streams {
		if _, ok := lengths[sg.Stream]; !ok {
			lengths[sg.Stream] = pipe.XLen(ctx, sg.Stream)
			streams = append(streams, sg.Stream)
		}
		pending[i] = pipe.XPending(ctx, sg.Stream, sg.Group)
	}
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	now := time.Now()

	var out []prometheus.Metric
	for _, s := range streams {
		n, err := lengths[s].Result()
		if err != nil {
			m.log.Failed(fmt.Errorf("XLEN %s: %w", s, err))
			return
		}
		out = append(out, prometheus.MustNewConstMetric(m.length, prometheus.GaugeValue, float64(n), s))
		if s == m.cfg.DeadLetters {
			out = append(out, prometheus.MustNewConstMetric(m.dead, prometheus.GaugeValue, float64(n)))
		}
	}
	for i, sg := range m.cfg.Streams {
		count, age, err := pendingOf(pending[i], now)
		if err != nil {
			m.log.Failed(fmt.Errorf("XPENDING %s %s: %w", sg.Stream, sg.Group, err))
			return
		}
		out = append(out,
			prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(count), sg.Stream, sg.Group),
			prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, age.Seconds(), sg.Stream, sg.Group))
	}
	m.log.Succeeded()
	for _, metric := range out {
		ch <- metric
	}
}

// pendingOf is how many entries a group has pending and how old the oldest
// is. A group no worker has created yet (NOGROUP, also for a stream that does
// not exist) has nothing pending.
func pendingOf(cmd *goredis.XPendingCmd, now time.Time) (int64, time.Duration, error) {
	p, err := cmd.Result()
	if goredis.HasErrorPrefix(err, "NOGROUP") {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if p.Count == 0 {
		return 0, 0, nil
	}
	lower, err := parseStreamID(p.Lower)
	if err != nil {
		return 0, 0, errors.New("oldest pending: " + err.Error())
	}
	added := time.UnixMilli(int64(lower.ms))
	return p.Count, max(now.Sub(added), 0), nil
}
