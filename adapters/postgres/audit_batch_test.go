package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func refusal(i int) audit.Entry {
	now := time.Now().UTC()
	return audit.Entry{AppID: "app-1", EndUser: "alice", Action: audit.ActionRateLimited, Status: audit.StatusFailed,
		RequestID: fmt.Sprintf("req-%d", i), Detail: "the app budget is spent", OccurredAt: now, CompletedAt: now}
}

func TestAuditBatcherWritesEveryEntry(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	b := postgres.NewAuditBatcher(pool, postgres.AuditBatchConfig{MaxBatch: 100}, nil, nil)
	defer b.Close()

	const writers, each = 8, 150
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := b.Append(context.Background(), refusal(w*each+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	var distinct int
	for {
		if err := pool.QueryRow(context.Background(),
			`SELECT count(DISTINCT request_id) FROM custom_gpt_audit_entries WHERE action = 'rate_limited'`).Scan(&distinct); err != nil {
			t.Fatal(err)
		}
		if distinct == writers*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the database, bounded by the deadline
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); distinct != writers*each || n != writers*each {
		t.Fatalf("%d entries (%d distinct) written, want %d", n, distinct, writers*each)
	}
}

func TestAuditBatcherCloseWritesWhatIsQueued(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewPool(t)
	b := postgres.NewAuditBatcher(pool, postgres.AuditBatchConfig{MaxDelay: time.Hour}, nil, nil)
	for i := range 10 {
		if err := b.Append(context.Background(), refusal(i)); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	if n := count(t, pool, "custom_gpt_audit_entries"); n != 10 {
		t.Fatalf("%d entries written by Close, want 10", n)
	}
	if err := b.Append(context.Background(), refusal(11)); err == nil {
		t.Error("a closed batcher took an entry")
	}
}

// While Postgres is unreachable entries wait, up to the queue's bound; past it
// they are refused (and counted), never held without limit.
func TestAuditBatcherBoundsItsQueue(t *testing.T) {
	t.Parallel()
	b := postgres.NewAuditBatcher(unreachablePool(t), postgres.AuditBatchConfig{MaxBatch: 2, MaxQueue: 4, MaxDelay: time.Hour}, nil, nil)
	defer b.Close()
	for i := range 4 {
		if err := b.Append(context.Background(), refusal(i)); err != nil {
			t.Fatalf("entry %d within the bound: %v", i, err)
		}
	}
	if err := b.Append(context.Background(), refusal(5)); err == nil {
		t.Fatal("an entry past the queue's bound was taken")
	}
}
