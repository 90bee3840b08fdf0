package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Transactions that write events and commit out of order while the forwarder
// runs: in each round the one that began first commits last, after the
// forwarder has polled past the others. Every event reaches Redis; none is
// skipped, and none is relayed twice.
func TestForwarderRelaysOutOfOrderCommitsOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, dbURL := pgtest.NewPool(t)
	// Enough connections for one round of open transactions and the forwarder.
	const rounds, width = 5, 12
	pool, err := postgres.Connect(ctx, dbURL, width+4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	tr := postgres.NewTransactor(pool, postgres.NewOutbox(topics, events.Marshaler, nil))

	runForwarder(t, ctx, pool, topics, 5*time.Millisecond)

	rdb := redistest.Client(t)
	stream := topics.Event("MemoryCreated")
	relayed := func() int64 { n, _ := rdb.XLen(ctx, stream).Result(); return n }
	waitRelayed := func(want int64) {
		t.Helper()
		for relayed() < want {
			if ctx.Err() != nil {
				t.Fatalf("stream %s has %d entries, want %d", stream, relayed(), want)
			}
			time.Sleep(10 * time.Millisecond) // polling the stream, not waiting for an effect
		}
	}

	for r := range rounds {
		type open struct {
			release   chan struct{}
			committed chan error
		}
		txs := make([]open, width)
		// Begin one after the other, so each writes (and takes its
		// transaction id) after the previous one.
		for i := range txs {
			o := open{release: make(chan struct{}), committed: make(chan error, 1)}
			txs[i] = o
			written := make(chan struct{})
			go func() {
				o.committed <- tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
					if err := tx.Publish(ctx, &events.MemoryCreated{Version: 1, OperationID: fmt.Sprintf("op-%d-%d", r, i)}); err != nil {
						return err
					}
					close(written)
					select {
					case <-o.release:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
			}()
			select {
			case <-written:
			case err := <-o.committed:
				t.Fatalf("round %d tx %d ended before its commit was due: %v", r, i, err)
			}
		}
		// Commit all but the first in shuffled order, each before the next.
		order := rand.Perm(width - 1)
		for _, k := range order {
			close(txs[k+1].release)
			if err := <-txs[k+1].committed; err != nil {
				t.Fatalf("round %d tx %d: %v", r, k+1, err)
			}
		}
		// The forwarder keeps polling while the oldest is still open; then it commits.
		close(txs[0].release)
		if err := <-txs[0].committed; err != nil {
			t.Fatalf("round %d tx 0: %v", r, err)
		}
		waitRelayed(int64((r + 1) * width))
	}
	waitOutboxAcknowledged(t, ctx, pool, rounds*width)

	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	uuids, ops := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		uuids[fmt.Sprint(e.Values[redisstream.UUIDHeaderKey])] = true
		var ev events.MemoryCreated
		if err := json.Unmarshal([]byte(fmt.Sprint(e.Values["payload"])), &ev); err != nil {
			t.Fatalf("payload: %v", err)
		}
		ops[ev.OperationID] = true
	}
	if len(uuids) != rounds*width || len(ops) != rounds*width {
		t.Fatalf("relayed %d entries: %d distinct messages, %d distinct events, want %d", len(entries), len(uuids), len(ops), rounds*width)
	}
	for r := range rounds {
		for i := range width {
			if !ops[fmt.Sprintf("op-%d-%d", r, i)] {
				t.Fatalf("event op-%d-%d was never relayed", r, i)
			}
		}
	}
	if len(entries) != rounds*width {
		t.Errorf("relayed %d entries for %d events: some were sent twice", len(entries), rounds*width)
	}
}
