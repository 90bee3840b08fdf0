package command_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// chainedCreates is a create handler whose writes hand a scope's turn over
// in chains of at most most writes (zero: the default).
func chainedCreates(most int, cfg command.WorkerConfig) (*fakeDB, *fakeBank, *command.Turns, command.CreateMemoryHandler) {
	db, bank := newFakeDB(), newFakeBank()
	turns := command.NewTurns(db.sender(), most, 0)
	creates := command.NewCreateMemoryHandler(db, turns, bank, db, cfg, nil, nil)
	command.TakeTurns(turns, creates)
	return db, bank, turns, creates
}

// waitingCreates accepts n creates in one scope and delivers all but the
// first, which each find an earlier write pending and step aside.
func waitingCreates(t *testing.T, db *fakeDB, h command.CreateMemoryHandler, n int) []events.CreateMemory {
	t.Helper()
	cs := make([]events.CreateMemory, n)
	for i := range cs {
		cs[i] = accept(t, db, fmt.Sprintf("op-%d", i+1), "app-1", "user-1")
	}
	for _, c := range cs[1:] {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("%s, delivered early: %v", c.OperationID, err)
		}
		if st := db.operation(c.OperationID).Status(); st != operation.StatusPending {
			t.Fatalf("%s ran before its turn: %s", c.OperationID, st)
		}
	}
	return cs
}

// The write that ends runs the next waiting one itself, and that one the
// next: a busy scope's writes follow each other without going back through
// the stream, where they would queue behind everything published meanwhile.
func TestTurns_theEndingWriteRunsTheWaitingOnesInOrder(t *testing.T) {
	t.Parallel()

	db, bank, _, creates := chainedCreates(0, command.WorkerConfig{})
	cs := waitingCreates(t, db, creates, 5)

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	for _, c := range cs {
		// Claimed once each: the waiting ones by the transaction that ended the write before.
		if op := db.operation(c.OperationID); op.Status() != operation.StatusSucceeded || op.Attempts() != 1 {
			t.Errorf("%s ended %s after %d attempts, want succeeded after 1", c.OperationID, op.Status(), op.Attempts())
		}
	}
	if sent := db.sender().commands(); len(sent) != 0 {
		t.Errorf("the turns went through the stream: %v", sent)
	}
	scope := mustScope(t, "app-1", "user-1")
	if n := bank.count(scope); n != len(cs) {
		t.Errorf("the Memory Bank holds %d memories, want %d", n, len(cs))
	}
}

// A chain stops at its bound, and the write it did not run goes to the
// stream, so one busy scope does not keep a consumer from the others.
func TestTurns_aChainStopsAtItsBoundAndSendsTheRest(t *testing.T) {
	t.Parallel()

	db, _, _, creates := chainedCreates(2, command.WorkerConfig{})
	cs := waitingCreates(t, db, creates, 4)

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	want := []operation.Status{operation.StatusSucceeded, operation.StatusSucceeded, operation.StatusSucceeded, operation.StatusPending}
	for i, c := range cs {
		if st := db.operation(c.OperationID).Status(); st != want[i] {
			t.Errorf("%s ended %s, want %s", c.OperationID, st, want[i])
		}
	}
	sent := db.sender().commands()
	if len(sent) != 1 || sent[0].(*events.CreateMemory).OperationID != cs[3].OperationID {
		t.Fatalf("sent %v, want the fourth write's command", sent)
	}
	// Not claimed for a chain that would not run it: delivered, it runs at once.
	if err := creates.Handle(context.Background(), *sent[0].(*events.CreateMemory)); err != nil {
		t.Fatalf("the fourth write, delivered: %v", err)
	}
	if st := db.operation(cs[3].OperationID).Status(); st != operation.StatusSucceeded {
		t.Fatalf("the fourth write, delivered, ended %s", st)
	}
}

// A write whose attempt in the chain fails goes to the stream, where its
// retries apply; the write that handed it the turn has ended all the same.
func TestTurns_aFailedAttemptInTheChainGoesToTheStream(t *testing.T) {
	t.Parallel()

	db, bank, _, creates := chainedCreates(0, command.WorkerConfig{})
	cs := waitingCreates(t, db, creates, 3)
	bank.addErrs = []error{nil, &memory.BankError{Transient: true, StatusCode: 503, Reason: "unavailable"}}

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	if st := db.operation(cs[0].OperationID).Status(); st != operation.StatusSucceeded {
		t.Fatalf("the first write ended %s", st)
	}
	if st := db.operation(cs[1].OperationID).Status(); st != operation.StatusPending {
		t.Fatalf("the second write, whose add failed, ended %s", st)
	}
	redeliverSent(t, db, creates, cs, 1)
}

// redeliverSent checks that the one command sent to the stream is the
// write cs[i]'s, delivers it, and checks that every write of cs has then
// succeeded.
func redeliverSent(t *testing.T, db *fakeDB, creates command.CreateMemoryHandler, cs []events.CreateMemory, i int) {
	t.Helper()
	sent := db.sender().commands()
	if len(sent) != 1 || sent[0].(*events.CreateMemory).OperationID != cs[i].OperationID {
		t.Fatalf("sent %v, want %s's command", sent, cs[i].OperationID)
	}
	if err := creates.Handle(context.Background(), *sent[0].(*events.CreateMemory)); err != nil {
		t.Fatalf("%s, redelivered: %v", cs[i].OperationID, err)
	}
	for _, c := range cs {
		if st := db.operation(c.OperationID).Status(); st != operation.StatusSucceeded {
			t.Errorf("%s ended %s, want succeeded", c.OperationID, st)
		}
	}
}

// A parked write, failed, hands the turn on: the next write is claimed for the
// chain under the worker's lease, so an attempt that keeps its lease (mem0
// left it unanswered) holds the write no longer than any attempt would.
func TestTurns_aWriteClaimedForTheChainHasTheWorkersLease(t *testing.T) {
	t.Parallel()

	cfg := command.WorkerConfig{Lease: 2 * time.Second}
	db, bank, turns, creates := chainedCreates(0, cfg)
	cs := waitingCreates(t, db, creates, 2)
	bank.addErrs = []error{errUnanswered()}

	start := time.Now()
	if err := command.NewFailOperationHandler(db, turns, cfg, nil, nil).Handle(context.Background(), command.FailOperation{
		OperationID: cs[0].OperationID, Reason: "parked",
	}); err != nil {
		t.Fatal(err)
	}
	next := db.operation(cs[1].OperationID)
	if next.Status() != operation.StatusPending || next.Attempts() != 1 {
		t.Fatalf("the next write is %s after %d attempts, want pending after 1", next.Status(), next.Attempts())
	}
	if until := next.LeaseUntil(); until.Before(start) || until.After(start.Add(cfg.Lease+time.Second)) {
		t.Fatalf("the next write is leased until %v, %v after the start; want within the worker's lease of %v",
			until, until.Sub(start), cfg.Lease)
	}
}

// A worker that dies in a chain of turns leaves the write it was running
// leased, with no delivery of its own (that was acknowledged when it stepped
// aside). The chain's first command comes back to another worker: it waits
// while the lease may still be a live attempt's, then hands the stranded
// write its turn again, and the scope goes on.
func TestTurns_theCommandOfADeadChainResumesIt(t *testing.T) {
	t.Parallel()

	cfg := command.WorkerConfig{Lease: 200 * time.Millisecond}
	db, bank, _, creates := chainedCreates(0, cfg)
	cs := waitingCreates(t, db, creates, 3)
	// The chain's attempt at the second write is left unanswered, and the
	// worker dies before it sends that write anywhere.
	bank.addErrs = []error{nil, errUnanswered()}
	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatal(err)
	}
	db.sender().sent = nil // lost with the worker

	// The first write's command, back: the second write's lease is held.
	err := creates.Handle(context.Background(), cs[0])
	if !command.IsRetryLater(err) {
		t.Fatalf("the first write's command, back while the lease holds: %v, want a retry later", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for command.IsRetryLater(err) && time.Now().Before(deadline) {
		err = creates.Handle(context.Background(), cs[0])
	}
	if err != nil {
		t.Fatalf("the first write's command, back after the lease: %v", err)
	}
	// Handed the turn again, here: the stranded write runs, then the next.
	for _, c := range cs {
		if st := db.operation(c.OperationID).Status(); st != operation.StatusSucceeded {
			t.Errorf("%s ended %s, want succeeded", c.OperationID, st)
		}
	}
}

// Each write handed its turn runs in the context the handover gives it, and
// the handover learns how it ended; the write that started the chain does not.
func TestTurns_eachHandedOverWriteRunsInItsOwnContext(t *testing.T) {
	t.Parallel()
	db, bank, turns, creates := chainedCreates(0, command.WorkerConfig{})
	type marked struct{}
	var (
		handedOver []string
		ended      []error
		addedIn    []bool // whether each Memory Bank add ran in a handover's context
	)
	bank.onAdd = func(ctx context.Context) { addedIn = append(addedIn, ctx.Value(marked{}) != nil) }
	turns.MarkHandovers(func(ctx context.Context, name string) (context.Context, func(error)) {
		handedOver = append(handedOver, name)
		return context.WithValue(ctx, marked{}, true), func(err error) { ended = append(ended, err) }
	})
	cs := waitingCreates(t, db, creates, 3)
	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatal(err)
	}
	if len(handedOver) != 2 || handedOver[0] != "CreateMemory" || len(ended) != 2 || ended[0] != nil || ended[1] != nil {
		t.Fatalf("handovers %v ended %v, want the two waiting creates, each ended well", handedOver, ended)
	}
	if len(addedIn) != 3 || addedIn[0] || !addedIn[1] || !addedIn[2] {
		t.Fatalf("adds ran in a handover's context: %v, want all but the first", addedIn)
	}
}

// storedOrder is the operations whose memories the fake Memory Bank holds,
// in the order it stored them.
func storedOrder(b *fakeBank) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, m := range b.memories {
		ids = append(ids, m.opID)
	}
	return ids
}

// The end of a write claims the run of creates waiting after it; the run's
// writes are stored one after another, in order, and end together in the
// transaction that ends the last of them: a busy scope pays a commit per
// run, not per write.
func TestTurns_aRunOfCreatesEndsInOneTransaction(t *testing.T) {
	t.Parallel()

	db, bank, _, creates := chainedCreates(0, command.WorkerConfig{})
	cs := waitingCreates(t, db, creates, 6)

	before, asked := db.commits, db.forgotAsk
	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	// The first write's claim, its end (which claims the run of five), the run's end.
	if n := db.commits - before; n != 3 {
		t.Errorf("%d transactions committed, want 3", n)
	}
	// Whether a forget overtook them: asked by the first write, and once for the run.
	if n := db.forgotAsk - asked; n != 2 {
		t.Errorf("asked for forgets %d times, want 2", n)
	}
	var want []string
	for _, c := range cs {
		want = append(want, c.OperationID)
		if op := db.operation(c.OperationID); op.Status() != operation.StatusSucceeded || op.Attempts() != 1 {
			t.Errorf("%s ended %s after %d attempts, want succeeded after 1", c.OperationID, op.Status(), op.Attempts())
		}
	}
	if got := storedOrder(bank); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored in the order %v, want %v", got, want)
	}
	if sent := db.sender().commands(); len(sent) != 0 {
		t.Errorf("the turns went through the stream: %v", sent)
	}
}

// A write of a run whose attempt fails goes to the stream; the writes of
// the run before it end, and those after it are given back unclaimed, so
// that they run at once when the failed one has ended.
func TestTurns_aFailureInARunEndsTheWritesBeforeIt(t *testing.T) {
	t.Parallel()

	db, bank, _, creates := chainedCreates(0, command.WorkerConfig{})
	cs := waitingCreates(t, db, creates, 5)
	bank.addErrs = []error{nil, nil, &memory.BankError{Transient: true, StatusCode: 503, Reason: "unavailable"}}

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	for i, st := range []operation.Status{operation.StatusSucceeded, operation.StatusSucceeded, operation.StatusPending, operation.StatusPending, operation.StatusPending} {
		op := db.operation(cs[i].OperationID)
		if op.Status() != st {
			t.Errorf("%s ended %s, want %s", cs[i].OperationID, op.Status(), st)
		}
		if st == operation.StatusPending && !op.LeaseUntil().IsZero() {
			t.Errorf("%s is still leased until %v", cs[i].OperationID, op.LeaseUntil())
		}
	}
	redeliverSent(t, db, creates, cs, 2)
}

// When the transaction that ends a run fails, none of the run has ended:
// the first write of the run goes to the stream, and once the run's leases
// ran out its retry finds what its attempt stored and hands the turn on.
func TestTurns_aRunWhoseEndFailsGoesBackFromItsFirstWrite(t *testing.T) {
	t.Parallel()

	cfg := command.WorkerConfig{Lease: 100 * time.Millisecond}
	db, bank, _, creates := chainedCreates(0, cfg)
	cs := waitingCreates(t, db, creates, 4)
	refused := false
	db.beforeCommit = func(tx *fakeTx) error {
		if len(tx.newEvents) > 1 && !refused {
			refused = true
			return errCommit // the run's end, once
		}
		return nil
	}

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	if !refused {
		t.Fatal("no transaction ended several writes")
	}
	for _, c := range cs[1:] {
		if st := db.operation(c.OperationID).Status(); st != operation.StatusPending {
			t.Errorf("%s ended %s, want pending: its end was refused", c.OperationID, st)
		}
	}
	sent := db.sender().commands()
	if len(sent) != 1 || sent[0].(*events.CreateMemory).OperationID != cs[1].OperationID {
		t.Fatalf("sent %v, want the run's first write's command", sent)
	}
	cmd := *sent[0].(*events.CreateMemory)
	err := creates.Handle(context.Background(), cmd)
	for deadline := time.Now().Add(5 * time.Second); command.IsRetryLater(err) && time.Now().Before(deadline); {
		err = creates.Handle(context.Background(), cmd)
	}
	if err != nil {
		t.Fatalf("the run's first write, redelivered: %v", err)
	}
	for _, c := range cs {
		if st := db.operation(c.OperationID).Status(); st != operation.StatusSucceeded {
			t.Errorf("%s ended %s, want succeeded", c.OperationID, st)
		}
	}
	if n := bank.count(mustScope(t, "app-1", "user-1")); n != len(cs) {
		t.Errorf("the Memory Bank holds %d memories, want %d: a retry stored one again", n, len(cs))
	}
}

// Writes claimed for a run wait for their turns without renewing their
// leases: when a slow Memory Bank call has spent a third of them, the
// writes run so far end, the rest are given back, and each claims itself in
// its turn, so no lease runs out under a write still to run or ended late.
func TestTurns_aRunWhoseClaimsGrewOldIsRunUnclaimed(t *testing.T) {
	t.Parallel()

	cfg := command.WorkerConfig{Lease: 400 * time.Millisecond}
	db, bank, _, creates := chainedCreates(0, cfg)
	cs := waitingCreates(t, db, creates, 4)
	var adds atomic.Int32
	bank.onAdd = func(context.Context) {
		if adds.Add(1) == 2 {
			time.Sleep(cfg.Lease / 2) // the second write's add, the first of the run: slow
		}
	}

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	wantAttempts := []int{1, 1, 2, 2} // the third and fourth claimed for the run, given back, claimed again
	for i, c := range cs {
		op := db.operation(c.OperationID)
		if op.Status() != operation.StatusSucceeded || op.Attempts() != wantAttempts[i] {
			t.Errorf("%s ended %s after %d attempts, want succeeded after %d", c.OperationID, op.Status(), op.Attempts(), wantAttempts[i])
		}
	}
	if n := bank.count(mustScope(t, "app-1", "user-1")); n != len(cs) {
		t.Errorf("the Memory Bank holds %d memories, want %d", n, len(cs))
	}
	if sent := db.sender().commands(); len(sent) != 0 {
		t.Errorf("the turns went through the stream: %v", sent)
	}
}

// A write of a run whose end waits for the next write's attempt keeps its
// lease while that attempt runs long: the attempt renews it with its own.
func TestTurns_aSlowAttemptRenewsTheLeasesOfTheEndsWaitingForIt(t *testing.T) {
	t.Parallel()

	cfg := command.WorkerConfig{Lease: time.Second}
	db, bank, _, creates := chainedCreates(0, cfg)
	cs := waitingCreates(t, db, creates, 3)
	var (
		adds    atomic.Int32
		renewed atomic.Bool
	)
	bank.onAdd = func(context.Context) {
		if adds.Add(1) != 3 {
			return
		}
		// The third write's add, the second of the run: slower than the
		// lease the run took for the second write, whose end waits.
		waited := db.operation(cs[1].OperationID).LeaseUntil()
		time.Sleep(cfg.Lease + cfg.Lease/6)
		renewed.Store(db.operation(cs[1].OperationID).LeaseUntil().After(waited))
	}

	if err := creates.Handle(context.Background(), cs[0]); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	if !renewed.Load() {
		t.Error("the lease of the write whose end waited ran out under the next write's attempt")
	}
	for _, c := range cs {
		if op := db.operation(c.OperationID); op.Status() != operation.StatusSucceeded || op.Attempts() != 1 {
			t.Errorf("%s ended %s after %d attempts, want succeeded after 1", c.OperationID, op.Status(), op.Attempts())
		}
	}
}
