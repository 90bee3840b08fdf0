package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// newTxGroup is a group over a database of its own.
func newTxGroup(t testing.TB, cfg postgres.TxGroupConfig) (*postgres.TxGroup, *pgxpool.Pool) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	outbox := postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil)
	return postgres.NewTxGroup(postgres.NewTransactor(pool, outbox), cfg), pool
}

// concurrently runs n units of work at once and returns each one's error.
func concurrently(n int, unit func(i int) error) []error {
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i] = unit(i) })
	}
	wg.Wait()
	return results
}

func readEntry(i int) audit.Entry {
	now := time.Now().UTC()
	return audit.Entry{AppID: "app-1", Action: audit.ActionSearch, Status: audit.StatusSucceeded,
		RequestID: fmt.Sprintf("req-%d", i), OccurredAt: now, CompletedAt: now}
}

// Many concurrent reads share few transactions, and each returns only once
// its own entry and event are committed.
func TestTxGroupCommitsReadsTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, pool := newTxGroup(t, postgres.TxGroupConfig{Writers: 2})
	const reads = 400
	results := concurrently(reads, func(i int) error {
		ctx := events.WithCorrelationID(ctx, fmt.Sprintf("corr-%d", i))
		err := g.RecordRead(ctx, readEntry(i), &events.MemoriesSearched{Version: 1, RequestID: fmt.Sprintf("req-%d", i)})
		if err != nil {
			return err
		}
		// Committed before the answer: this read's own row is there.
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_audit_entries WHERE request_id = $1`,
			fmt.Sprintf("req-%d", i)).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("req-%d answered with %d audit rows", i, n)
		}
		return nil
	})
	for _, err := range results {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != reads {
		t.Fatalf("%d audit entries, want %d", n, reads)
	}
	msgs, err := postgres.OutboxEvents(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != reads {
		t.Fatalf("%d events, want %d", len(msgs), reads)
	}
	if b := g.Batches(); b == 0 || b >= reads {
		t.Errorf("%d reads took %d shared transactions: nothing was grouped", reads, b)
	}
	// A batch's events are one outbox row (a bundle), not a row each.
	if rows := count(t, pool, "custom_gpt_outbox"); rows >= reads {
		t.Errorf("%d outbox rows for %d events: none bundled", rows, reads)
	}
	// Written together, each event still carries its own read's correlation id.
	var matched int
	for _, m := range msgs {
		var ev struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if "corr-"+strings.TrimPrefix(ev.RequestID, "req-") == middleware.MessageCorrelationID(m) {
			matched++
		}
	}
	if matched != reads {
		t.Errorf("%d of %d events carry their own read's correlation id", matched, reads)
	}
}

// An entry Postgres refuses fails its own read only: the batch it was in is
// written again a read at a time.
func TestTxGroupIsolatesABadUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, pool := newTxGroup(t, postgres.TxGroupConfig{Writers: 1})
	const reads = 50
	results := concurrently(reads, func(i int) error {
		e := readEntry(i)
		if i == 7 {
			e.RequestID = "bad\x00id" // Postgres text cannot hold NUL
		}
		return g.RecordRead(ctx, e, &events.MemoriesSearched{Version: 1})
	})
	for i, err := range results {
		if (i == 7) != (err != nil) {
			t.Errorf("read %d: %v", i, err)
		}
	}
	if results[7] != nil && !strings.Contains(results[7].Error(), "audit") {
		t.Errorf("the bad read's error: %v", results[7])
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != reads-1 {
		t.Fatalf("%d audit entries, want %d", n, reads-1)
	}
}

// A unit that refuses its own work (an Idempotency-Key taken over, say) gets
// its error; the units it shared a batch with are written all the same.
func TestTxGroupReturnsAUnitsOwnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, pool := newTxGroup(t, postgres.TxGroupConfig{})
	mine := errors.New("taken over")
	const units = 60
	results := concurrently(units, func(i int) error {
		return g.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			if err := tx.InsertAudit(ctx, readEntry(i)); err != nil {
				return err
			}
			if i%20 == 3 {
				return mine
			}
			return nil
		})
	})
	for i, err := range results {
		if want := i%20 == 3; want != errors.Is(err, mine) || (!want && err != nil) {
			t.Errorf("unit %d: %v", i, err)
		}
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != units-3 {
		t.Fatalf("%d audit entries, want %d: a refused unit's writes were kept, or others' lost", n, units-3)
	}
}

// Each committed transaction reports how many units it held: their sum is
// every unit, their count every commit.
func TestTxGroupObservesUnitsPerCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	units := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "units", Buckets: prometheus.ExponentialBuckets(1, 2, 9)})
	g, _ := newTxGroup(t, postgres.TxGroupConfig{Units: units})
	const reads = 200
	if err := errors.Join(concurrently(reads, func(i int) error {
		return g.RecordRead(ctx, readEntry(i), &events.MemoriesSearched{Version: 1, RequestID: fmt.Sprintf("req-%d", i)})
	})...); err != nil {
		t.Fatal(err)
	}
	var m dto.Metric
	if err := units.Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleSum() != reads || h.GetSampleCount() != uint64(g.Commits()) {
		t.Errorf("observed %v units in %d commits, want %d in %d", h.GetSampleSum(), h.GetSampleCount(), reads, g.Commits())
	}
	if h.GetSampleCount() >= reads {
		t.Errorf("%d commits for %d concurrent reads: nothing was shared", h.GetSampleCount(), reads)
	}
}
