package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

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
	pool, _ := pgtest.NewPool(t)
	g := postgres.NewTxGroup(postgres.NewTransactor(pool, postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil)),
		postgres.TxGroupConfig{Writers: 2})
	const reads = 400
	var wg sync.WaitGroup
	errs := make(chan error, reads)
	for i := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.RecordRead(ctx, readEntry(i), &events.MemoriesSearched{Version: 1, RequestID: fmt.Sprintf("req-%d", i)})
			if err == nil {
				// Committed before the answer: this read's own row is there.
				var n int
				err = pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_audit_entries WHERE request_id = $1`,
					fmt.Sprintf("req-%d", i)).Scan(&n)
				if err == nil && n != 1 {
					err = fmt.Errorf("req-%d answered with %d audit rows", i, n)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != reads {
		t.Fatalf("%d audit entries, want %d", n, reads)
	}
	if n := count(t, pool, "custom_gpt_outbox"); n != reads {
		t.Fatalf("%d events, want %d", n, reads)
	}
	if b := g.Batches(); b >= reads {
		t.Errorf("%d reads took %d transactions: nothing was grouped", reads, b)
	}
}

// An entry Postgres refuses fails its own read only: the batch it was in is
// written again a read at a time.
func TestTxGroupIsolatesABadUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	g := postgres.NewTxGroup(postgres.NewTransactor(pool, postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil)),
		postgres.TxGroupConfig{Writers: 1})
	const reads = 50
	var wg sync.WaitGroup
	results := make([]error, reads)
	for i := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := readEntry(i)
			if i == 7 {
				e.RequestID = "bad\x00id" // Postgres text cannot hold NUL
			}
			results[i] = g.RecordRead(ctx, e, &events.MemoriesSearched{Version: 1})
		}()
	}
	wg.Wait()
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
	pool, _ := pgtest.NewPool(t)
	g := postgres.NewTxGroup(postgres.NewTransactor(pool, postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil)),
		postgres.TxGroupConfig{})
	mine := errors.New("taken over")
	const units = 60
	var wg sync.WaitGroup
	results := make([]error, units)
	for i := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = g.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
				if err := tx.InsertAudit(ctx, readEntry(i)); err != nil {
					return err
				}
				if i%20 == 3 {
					return mine
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range results {
		if want := i%20 == 3; want != errors.Is(err, mine) || (!want && err != nil) {
			t.Errorf("unit %d: %v", i, err)
		}
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != units-3 {
		t.Fatalf("%d audit entries, want %d: a refused unit's writes were kept, or others' lost", n, units-3)
	}
}
