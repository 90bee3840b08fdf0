package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/metricstest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Events the forwarder has not relayed show as outbox lag, aged from their
// commit, until it relays them; pending operations show by kind, aged from
// their acceptance, and ended ones do not count.
func TestBacklogMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	_, hash := application.NewAPIKey()
	app, _ := application.New("app-1", "Test", hash, time.Now())
	if err := postgres.NewApplicationRepository(pool).Add(ctx, app); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(postgres.NewBacklogMetrics(pool, 0, nil))
	if got := metricstest.Gauges(t, reg); got["custom_gpt_outbox_unforwarded{}"] != 0 || len(got) != 2+2*len(events.Kinds()) {
		t.Fatalf("an empty database: %v", got)
	}

	// Three events in two transactions, committed 90 seconds ago.
	tr := postgres.NewTransactor(pool, postgres.NewOutbox(topics, events.Marshaler, nil))
	for _, n := range []int{2, 1} {
		if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			for i := range n {
				if err := tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: fmt.Sprint("op-", n, i)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE custom_gpt_outbox SET created_at = created_at - interval '90 seconds'`)
	exec(`INSERT INTO custom_gpt_operations (id, app_id, end_user, kind, status, memory_ids, created_at, updated_at) VALUES
		('op-a', 'app-1', '', 'create_memory', 'pending', '{}', now() - interval '400 seconds', now()),
		('op-b', 'app-1', '', 'delete_memory', 'pending', '{}', now() - interval '10 seconds', now()),
		('op-c', 'app-1', '', 'create_memory', 'succeeded', '{}', now() - interval '1000 seconds', now()),
		('op-d', 'app-1', '', 'forget_memories', 'failed', '{}', now() - interval '1000 seconds', now())`)

	got := metricstest.Gauges(t, reg)
	for name, want := range map[string]float64{
		"custom_gpt_outbox_unforwarded{}":                                        3,
		"custom_gpt_operations_pending{kind=create_memory}":                      1,
		"custom_gpt_operations_pending{kind=delete_memory}":                      1,
		"custom_gpt_operations_pending{kind=update_memory}":                      0,
		"custom_gpt_operations_pending{kind=forget_memories}":                    0,
		"custom_gpt_operations_pending_oldest_age_seconds{kind=forget_memories}": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", name, v, ok, want)
		}
	}
	for name, want := range map[string]float64{
		"custom_gpt_outbox_oldest_unforwarded_age_seconds{}":                   90,
		"custom_gpt_operations_pending_oldest_age_seconds{kind=create_memory}": 400,
		"custom_gpt_operations_pending_oldest_age_seconds{kind=delete_memory}": 10,
	} {
		if v := got[name]; v < want || v > want+30 {
			t.Errorf("%s = %v, want about %v", name, v, want)
		}
	}

	runForwarder(t, ctx, pool, topics, 10*time.Millisecond)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = metricstest.Gauges(t, reg)
		if got["custom_gpt_outbox_unforwarded{}"] == 0 && got["custom_gpt_outbox_oldest_unforwarded_age_seconds{}"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relayed outbox still shows lag: %v", got)
		}
		time.Sleep(20 * time.Millisecond) // polling the gauges
	}
}

// A scrape while Postgres cannot be reached ends within its timeout, leaves
// the backlog metrics out, and says so at WARN once, never at ERROR.
func TestBacklogMetricsWhilePostgresIsAway(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var logs lockedBuffer
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(postgres.NewBacklogMetrics(pool, time.Second,
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for range 2 {
		start := time.Now()
		if got := metricstest.Gauges(t, reg); len(got) != 0 {
			t.Errorf("exported %v", got)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a scrape took %v", d)
		}
	}
	lines := logs.String()
	if strings.Contains(lines, "level=ERROR") || strings.Count(lines, "level=WARN") != 1 || strings.Count(lines, "level=DEBUG") != 1 {
		t.Errorf("logs:\n%s", lines)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
