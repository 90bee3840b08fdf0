package command_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// waitUntil polls cond until it holds, failing the test after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An attempt that outlasts its lease (a slow add, a long wait for a Memory
// Bank slot) keeps renewing it: a duplicate delivered long after the first
// lease would have run out still backs off, and the Memory Bank is called once.
func TestLease_renewedWhileAnAttemptRuns(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	const lease = 150 * time.Millisecond
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: lease}, nil, nil)

	entered, release := make(chan struct{}), make(chan struct{})
	bank.onAdd = func(context.Context) {
		close(entered)
		<-release
	}
	first := make(chan error, 1)
	go func() { first <- h.Handle(context.Background(), c) }()
	<-entered
	claimedUntil := db.operation("op-1").LeaseUntil()

	// Renewed past three of its own lengths, so the first lease is long over.
	waitUntil(t, "the lease is renewed", func() bool {
		until := db.operation("op-1").LeaseUntil()
		return until.After(claimedUntil.Add(3*lease)) && time.Now().After(claimedUntil)
	})
	if err := h.Handle(context.Background(), c); !errors.Is(err, operation.ErrLeased) {
		t.Errorf("duplicate after the first lease ran out = %v, want ErrLeased", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if n := bank.addCalls(); n != 1 {
		t.Errorf("Add called %d times, want 1", n)
	}
	requireSucceeded(t, db, c, []string{"mem-1"})
}

// When the lease cannot be renewed (the database is out of reach), the
// attempt's calls are cut short before the lease runs out, so that no other
// worker taking the operation then can call the Memory Bank alongside it.
func TestLease_attemptStopsBeforeAnUnrenewedLeaseRunsOut(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	var down atomic.Bool
	db.beforeCommit = func(*fakeTx) error {
		if down.Load() {
			return errCommit
		}
		return nil
	}
	// The margin is a tenth of the lease: 200 ms leaves room for a busy
	// machine to schedule the goroutine that cuts the call (with 300 ms, 30 ms
	// of margin was lost under a load average of 25).
	const lease = 2 * time.Second
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: lease}, nil, nil)

	cut := make(chan time.Time, 1)
	bank.onAdd = func(ctx context.Context) {
		down.Store(true)
		select {
		case <-ctx.Done():
			cut <- time.Now()
		case <-time.After(10 * time.Second):
			cut <- time.Time{}
		}
	}
	err := h.Handle(context.Background(), c)
	at := <-cut
	until := db.operation("op-1").LeaseUntil()
	if at.IsZero() || !at.Before(until) {
		t.Fatalf("the call was cut at %v, the lease runs out at %v", at, until)
	}
	if !errors.Is(err, operation.ErrLeaseLost) {
		t.Fatalf("Handle = %v, want the lease's loss", err)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending {
		t.Fatalf("operation %s, want pending for a later attempt", op.Status())
	}
}
