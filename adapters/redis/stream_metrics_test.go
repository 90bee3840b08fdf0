package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/metricstest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// A group with an entry delivered and not acknowledged shows it pending, aged
// from when it was added; the stream's length counts what was not delivered
// too; a group no worker created yet has nothing pending.
func TestStreamMetrics(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"single", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var (
				client goredis.UniversalClient
				prefix string
			)
			if mode == "single" {
				client, prefix = redistest.Client(t), redistest.Prefix(t)
			} else {
				srv := startOwnCluster(t)
				opts, err := redis.ParseURL(srv.URL(), srv.mode)
				if err != nil {
					t.Fatal(err)
				}
				client, prefix = redis.NewClient(opts), "test"
				t.Cleanup(func() { _ = client.Close() })
			}
			testStreamMetrics(t, client, prefix)
		})
	}
}

func testStreamMetrics(t *testing.T, client goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	commands, group := prefix+".commands.CreateMemory", prefix+".CreateMemory"
	poison, poisonGroup := prefix+".poison", prefix+".FailPoisoned"
	unread, unreadGroup := prefix+".events.MemoryCreated", prefix+".ScheduleWebhooks"
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(redis.NewStreamMetrics(client, redis.StreamMetricsConfig{
		Streams:     []redis.StreamGroup{{commands, group}, {poison, poisonGroup}, {unread, unreadGroup}},
		DeadLetters: poison,
	}))

	if err := client.XGroupCreateMkStream(ctx, commands, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	// Added 90 seconds ago (its id says when), delivered, never acknowledged.
	old := strconv.FormatInt(time.Now().Add(-90*time.Second).UnixMilli(), 10) + "-0"
	for _, id := range []string{old, "*"} {
		if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: commands, ID: id, Values: map[string]any{"payload": "{}"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: "worker-1", Streams: []string{commands, ">"}, Count: 1}).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: poison, Values: map[string]any{"payload": "{}"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	got := metricstest.Gauges(t, reg)
	age := got["custom_gpt_stream_oldest_pending_age_seconds{group="+group+",stream="+commands+"}"]
	if age < 89 || age > 120 {
		t.Errorf("oldest pending age %v, want about 90s", age)
	}
	for name, want := range map[string]float64{
		"custom_gpt_stream_length{stream=" + commands + "}":                                             2,
		"custom_gpt_stream_pending{group=" + group + ",stream=" + commands + "}":                        1,
		"custom_gpt_stream_length{stream=" + poison + "}":                                               3,
		"custom_gpt_dead_letters{}":                                                                     3,
		"custom_gpt_stream_pending{group=" + poisonGroup + ",stream=" + poison + "}":                    0,
		"custom_gpt_stream_length{stream=" + unread + "}":                                               0,
		"custom_gpt_stream_pending{group=" + unreadGroup + ",stream=" + unread + "}":                    0,
		"custom_gpt_stream_oldest_pending_age_seconds{group=" + unreadGroup + ",stream=" + unread + "}": 0,
		"custom_gpt_stream_oldest_pending_age_seconds{group=" + poisonGroup + ",stream=" + poison + "}": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", name, v, ok, want)
		}
	}

	// Acknowledged, it is no longer pending, and its age no longer counts.
	if err := client.XAck(ctx, commands, group, old).Err(); err != nil {
		t.Fatal(err)
	}
	got = metricstest.Gauges(t, reg)
	if p, a := got["custom_gpt_stream_pending{group="+group+",stream="+commands+"}"], got["custom_gpt_stream_oldest_pending_age_seconds{group="+group+",stream="+commands+"}"]; p != 0 || a != 0 {
		t.Errorf("after the ack: pending %v, age %v", p, a)
	}
}

// While Redis is away a scrape leaves the stream metrics out, within its
// timeout, and says so once at WARN, never at ERROR; it says when they are
// back.
func TestStreamMetricsWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	opts, err := redis.ParseURL(srv.URL(), srv.mode)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	logs := &logBuffer{}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(redis.NewStreamMetrics(client, redis.StreamMetricsConfig{
		Streams: []redis.StreamGroup{{"test.poison", "test.FailPoisoned"}}, DeadLetters: "test.poison",
		Timeout: time.Second, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}))
	if got := metricstest.Gauges(t, reg); len(got) != 4 {
		t.Fatalf("with Redis up: %v", got)
	}

	srv.Kill()
	for range 3 {
		start := time.Now()
		if got := metricstest.Gauges(t, reg); len(got) != 0 {
			t.Errorf("with Redis down: %v", got)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a scrape took %v", d)
		}
	}
	srv.Start()
	eventually(t, 20*time.Second, "the metrics are back", func() (bool, any) {
		got := metricstest.Gauges(t, reg)
		return len(got) == 4, fmt.Sprint(got)
	})

	lines := logs.String()
	if strings.Contains(lines, "level=ERROR") || strings.Count(lines, "level=WARN") != 1 ||
		!strings.Contains(lines, "level=DEBUG") || strings.Count(lines, "level=INFO") != 1 {
		t.Errorf("logs:\n%s", lines)
	}
}
