package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// acceptOp writes a pending operation of kind for app-1/endUser, as an accept does.
func acceptOp(t *testing.T, tr *postgres.Transactor, id, endUser string, kind operation.Kind) *operation.Operation {
	t.Helper()
	op, err := operation.New(id, "app-1", endUser, kind, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		return tx.InsertOperation(ctx, op, &events.CreateMemory{Header: events.Header{Version: 1, OperationID: id, AppID: "app-1", EndUser: endUser}, Draft: memory.Draft{Content: "x"}})
	})
	return op
}

// succeedWith ends op as succeeded, registering ids as its memories.
func succeedWith(t *testing.T, tr *postgres.Transactor, id string, ids []string, at time.Time) {
	t.Helper()
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		if err := op.Succeed(ids, at); err != nil {
			return err
		}
		if err := tx.RegisterMemories(ctx, op, ids, at); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})
}

func registryScope(t *testing.T, endUser string) memory.Scope {
	t.Helper()
	s, err := memory.NewScope("app-1", endUser)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Operations take their places in their scope in the order they are accepted,
// each scope counting on its own.
func TestOperationsArePlacedInTheirScope(t *testing.T) {
	t.Parallel()
	tr, _ := newTransactor(t)
	var seqs []int64
	for i, user := range []string{"alice", "alice", "bob", "alice"} {
		op := acceptOp(t, tr, fmt.Sprintf("op-%d", i), user, operation.KindCreateMemory)
		seqs = append(seqs, op.Seq())
	}
	if want := []int64{1, 2, 1, 3}; !slices.Equal(seqs, want) {
		t.Fatalf("places = %v, want %v", seqs, want)
	}
	var stored int64
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-3")
		stored = op.Seq()
		return err
	})
	if stored != 3 {
		t.Fatalf("stored place = %d, want 3", stored)
	}
}

// A registry page is newest first, the cursor is a keyset: memories stored in
// the same instant page by id, and a deleted memory never makes one repeat or
// go missing; other scopes never show.
func TestRegistryPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	reg := postgres.NewMemoryRegistry(pool)
	alice := registryScope(t, "alice")
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 7 {
		id := fmt.Sprintf("m-%02d", i)
		acceptOp(t, tr, "op-"+id, "alice", operation.KindCreateMemory)
		when := at
		if i >= 5 {
			when = at.Add(time.Duration(i) * time.Second) // the last two are newer
		}
		succeedWith(t, tr, "op-"+id, []string{id}, when)
	}
	acceptOp(t, tr, "op-bob", "bob", operation.KindCreateMemory)
	succeedWith(t, tr, "op-bob", []string{"m-bob"}, at.Add(time.Hour))

	want := []string{"m-06", "m-05", "m-04", "m-03", "m-02", "m-01", "m-00"}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		entries, next, err := reg.Page(ctx, alice, memory.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			got = append(got, e.ID)
		}
		if page == 0 {
			// A memory of the next page goes meanwhile: nothing repeats or skips.
			mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
				op, err := tx.LockOperation(ctx, "op-m-02")
				if err != nil {
					return err
				}
				return tx.UnregisterMemories(ctx, op, []string{"m-02"})
			})
			want = slices.DeleteFunc(want, func(id string) bool { return id == "m-02" })
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
	for _, bad := range []string{"not a cursor", "eyJ0IjoxfQ", "////"} {
		_, _, err := reg.Page(ctx, alice, memory.Page{Cursor: bad})
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "cursor" {
			t.Fatalf("cursor %q: %v, want an invalid cursor", bad, err)
		}
	}
	if owns, err := reg.Owns(ctx, alice, "m-bob"); err != nil || owns {
		t.Fatalf("alice owns bob's memory: %v %v", owns, err)
	}
	if owns, err := reg.Owns(ctx, registryScope(t, "bob"), "m-bob"); err != nil || !owns {
		t.Fatalf("bob does not own his memory: %v %v", owns, err)
	}
}

// What a write needs to know of its scope's other writes.
func TestRegistryTellsAWriteAboutTheOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	reg := postgres.NewMemoryRegistry(pool)
	alice := registryScope(t, "alice")
	now := time.Now().UTC()

	create := acceptOp(t, tr, "op-create", "alice", operation.KindCreateMemory) // seq 1
	succeedWith(t, tr, "op-create", []string{"m-1"}, now)
	update := acceptOp(t, tr, "op-update", "alice", operation.KindUpdateMemory)   // seq 2
	forget := acceptOp(t, tr, "op-forget", "alice", operation.KindForgetMemories) // seq 3
	later := acceptOp(t, tr, "op-later", "alice", operation.KindCreateMemory)     // seq 4

	if ids, err := reg.RegisteredBefore(ctx, alice, forget.Seq()); err != nil || !slices.Equal(ids, []string{"m-1"}) {
		t.Fatalf("registered before the forget = %v %v", ids, err)
	}
	if ids, err := reg.RegisteredBefore(ctx, alice, create.Seq()); err != nil || len(ids) != 0 {
		t.Fatalf("registered before the create = %v %v", ids, err)
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-update")
		if err != nil {
			return err
		}
		return tx.RewroteMemory(ctx, op, "m-1")
	})
	if seq, ok, err := reg.LastWrite(ctx, alice, "m-1"); err != nil || !ok || seq != update.Seq() {
		t.Fatalf("last write of m-1 = %d %v %v, want the update's %d", seq, ok, err, update.Seq())
	}
	if started, err := reg.LaterWritesStarted(ctx, alice, forget.Seq()); err != nil || started {
		t.Fatalf("a later write started? %v %v", started, err)
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-later")
		if err != nil {
			return err
		}
		if err := op.Claim(time.Now(), time.Minute); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})
	if started, err := reg.LaterWritesStarted(ctx, alice, forget.Seq()); err != nil || !started {
		t.Fatalf("the later create started: %v %v", started, err)
	}
	if later, err := reg.LaterOperations(ctx, alice, forget.Seq(), []string{"op-create", "op-later", "op-unknown"}); err != nil ||
		!later["op-later"] || later["op-create"] || len(later) != 1 {
		t.Fatalf("later operations = %v %v", later, err)
	}

	if forgot, err := reg.ForgotAfter(ctx, alice, create.Seq()); err != nil || forgot {
		t.Fatalf("forgot after the create before any forget: %v %v", forgot, err)
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, "op-forget")
		if err != nil {
			return err
		}
		if err := op.SucceedRemoved(1, now); err != nil {
			return err
		}
		if _, err := tx.ForgetScope(ctx, op); err != nil {
			return err
		}
		return tx.SaveOperation(ctx, op)
	})
	if forgot, err := reg.ForgotAfter(ctx, alice, create.Seq()); err != nil || !forgot {
		t.Fatalf("the forget is not seen from the create: %v %v", forgot, err)
	}
	if forgot, err := reg.ForgotAfter(ctx, alice, later.Seq()); err != nil || forgot {
		t.Fatalf("the forget is seen from a later write: %v %v", forgot, err)
	}
	if owns, err := reg.Owns(ctx, alice, "m-1"); err != nil || owns {
		t.Fatalf("the forgotten memory is still registered: %v %v", owns, err)
	}
}

// endAndHandOver ends the write id as succeeded and returns the command it
// hands the turn to, as the worker's end of a write does.
func endAndHandOver(ctx context.Context, tr *postgres.Transactor, id string) (next any, err error) {
	err = tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return err
		}
		if err := op.Succeed(nil, time.Now()); err != nil {
			return err
		}
		if err := tx.SaveOperation(ctx, op); err != nil {
			return err
		}
		cmds, err := tx.NextWaiting(ctx, op, 1)
		if len(cmds) > 0 {
			next = cmds[0]
		}
		return err
	})
	return next, err
}

// A write whose command reaches a worker while an earlier one is pending
// marks itself waiting; when the earlier one ends it hands over the turn with
// the waiting write's command. Raced a hundred times: the hand-over is never
// lost. (A write accepted behind a pending one is written waiting and its
// command not queued; it is delivered anyway after a resend, or when a
// replay reopened an earlier write: here it is accepted first, and the
// earlier write placed before it.)
func TestWaitingWriteIsAlwaysHandedTheTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	for round := range 100 {
		user := fmt.Sprintf("user-%d", round)
		second := acceptOp(t, tr, "second-"+user, user, operation.KindCreateMemory)
		first := acceptOp(t, tr, "first-"+user, user, operation.KindCreateMemory)
		if _, err := pool.Exec(ctx, `UPDATE custom_gpt_operations SET seq = CASE WHEN id = $1 THEN 1 ELSE 2 END, waiting = false
			WHERE id IN ($1, $2)`, first.ID(), second.ID()); err != nil {
			t.Fatal(err)
		}
		first.Sequence(1)
		second.Sequence(2)
		var (
			waiting  bool
			next     any
			errWait  = make(chan error, 1)
			errFirst = make(chan error, 1)
		)
		go func() {
			errWait <- tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
				op, err := tx.LockOperation(ctx, second.ID())
				if err != nil {
					return err
				}
				waiting, err = tx.WaitForEarlier(ctx, op)
				return err
			})
		}()
		go func() {
			var err error
			next, err = endAndHandOver(ctx, tr, first.ID())
			errFirst <- err
		}()
		if err := errors.Join(<-errWait, <-errFirst); err != nil {
			t.Fatal(err)
		}
		// Either the second write saw the first one end (and runs now), or it
		// waits and the first handed it its command.
		handed, _ := next.(*events.CreateMemory)
		if waiting && (handed == nil || handed.OperationID != second.ID()) {
			t.Fatalf("round %d: the second write waits, but the first handed over %#v", round, next)
		}
		if !waiting && next != nil {
			t.Fatalf("round %d: the second write runs, and was handed its command too", round)
		}
	}
}

// A write accepted while an earlier one of its scope is pending is written
// waiting, its command left unqueued, and the earlier one hands it over when
// it ends. Raced a hundred times against that end: either the new write
// comes after it (it is not behind, and nobody hands it over), or it is
// behind and handed over; never behind and forgotten.
func TestWriteAcceptedBehindAPendingOneIsHandedTheTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, _ := newTransactor(t)
	behindSeen := 0
	for round := range 100 {
		user := fmt.Sprintf("user-%d", round)
		first := acceptOp(t, tr, "first-"+user, user, operation.KindCreateMemory)
		var (
			second   *operation.Operation
			next     any
			errSec   = make(chan error, 1)
			errFirst = make(chan error, 1)
		)
		go func() {
			op, err := operation.New("second-"+user, "app-1", user, operation.KindCreateMemory, time.Now().UTC())
			if err == nil {
				second = op
				err = tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
					return tx.InsertOperation(ctx, op, &events.CreateMemory{Header: events.Header{Version: 1, OperationID: op.ID(), AppID: "app-1", EndUser: user}, Draft: memory.Draft{Content: "x"}})
				})
			}
			errSec <- err
		}()
		go func() {
			var err error
			next, err = endAndHandOver(ctx, tr, first.ID())
			errFirst <- err
		}()
		if err := errors.Join(<-errSec, <-errFirst); err != nil {
			t.Fatal(err)
		}
		handed, _ := next.(*events.CreateMemory)
		if second.Behind() {
			behindSeen++
			if handed == nil || handed.OperationID != second.ID() {
				t.Fatalf("round %d: the second write was accepted behind the first, which handed over %#v", round, next)
			}
		} else if next != nil {
			t.Fatalf("round %d: the second write was accepted after the first ended, and handed over too", round)
		}
	}
	t.Logf("accepted behind in %d rounds of 100", behindSeen)
}

// An accept does not wait for a scope's turn lock: while another transaction
// holds it (a write ending), a write accepted behind a pending one is queued
// as any other, and its own delivery finds the earlier write pending.
func TestWriteAcceptedWhileTheTurnIsBusyIsQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, _ := newTransactor(t)
	first := acceptOp(t, tr, "first", "user-1", operation.KindCreateMemory)
	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			op, err := tx.LockOperation(ctx, first.ID())
			if err != nil {
				return err
			}
			if _, err := tx.NextWaiting(ctx, op, 1); err != nil { // takes the scope's turn lock
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	second, _ := operation.New("second", "app-1", "user-1", operation.KindCreateMemory, time.Now().UTC())
	accepted := make(chan error, 1)
	go func() {
		accepted <- tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			return tx.InsertOperation(ctx, second, &events.CreateMemory{Header: events.Header{Version: 1, OperationID: "second", AppID: "app-1", EndUser: "user-1"}, Draft: memory.Draft{Content: "x"}})
		})
	}()
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the accept waited for the turn lock")
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if second.Behind() {
		t.Fatal("accepted behind while the turn lock was held")
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		op, err := tx.LockOperation(ctx, second.ID())
		if err != nil {
			return err
		}
		waiting, err := tx.WaitForEarlier(ctx, op)
		if err == nil && !waiting {
			t.Error("the queued write does not find the first one pending")
		}
		return err
	})
}

// Writes accepted in one statement behind each other: only the first of a
// scope with nothing pending is queued; the rest wait, each handed over by
// the one before.
func TestBatchOfAcceptsQueuesOnlyTheFirstOfAScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, _ := newTransactor(t)
	g := postgres.NewTxGroup(tr, postgres.TxGroupConfig{})
	ops := make([]*operation.Operation, 6)
	errs := concurrently(len(ops), func(i int) error {
		user := fmt.Sprintf("user-%d", i%2)
		op, err := operation.New(fmt.Sprintf("op-%d", i), "app-1", user, operation.KindCreateMemory, time.Now().UTC())
		if err != nil {
			return err
		}
		ops[i] = op
		return g.Accept(ctx, command.Accepted{Operation: op,
			Command: &events.CreateMemory{Header: events.Header{Version: 1, OperationID: op.ID(), AppID: "app-1", EndUser: user}, Draft: memory.Draft{Content: "x"}},
			Entry:   audit.Entry{AppID: "app-1", EndUser: user, Action: audit.ActionCreateMemory, Status: audit.StatusPending, RequestID: "r", OperationID: op.ID(), OccurredAt: time.Now().UTC()}})
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"user-0", "user-1"} {
		queued := 0
		for _, op := range ops {
			if op.EndUser() != user {
				continue
			}
			if op.Behind() != (op.Seq() > 1) {
				t.Errorf("%s: write %d of its scope accepted behind: %v", op.ID(), op.Seq(), op.Behind())
			}
			if !op.Behind() {
				queued++
			}
		}
		if queued != 1 {
			t.Errorf("%s: %d writes queued, want the first only", user, queued)
		}
	}
}

// Migration 00010 gives every operation written before it its place in its
// scope, and registers the memories they stored that no delete or later
// forget removed.
func TestMigrationPlacesOldOperationsAndRegistersTheirMemories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := unmigratedPool(t)
	if err := postgres.MigrateTo(ctx, pool, 9); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO custom_gpt_applications (id, name, status, key_hash, created_at, updated_at) VALUES ('app-1', 'GPT', 'active', '\x01', now(), now())`)
	op := func(id, user, kind, status string, ids []string, minutes int) {
		exec(`INSERT INTO custom_gpt_operations (id, app_id, end_user, kind, status, memory_ids, created_at, updated_at)
			VALUES ($1, 'app-1', $2, $3, $4, $5, $6, $6)`, id, user, kind, status, ids, t0.Add(time.Duration(minutes)*time.Minute))
	}
	op("a1", "alice", "create_memory", "succeeded", []string{"m1"}, 1)
	op("a2", "alice", "create_memory", "succeeded", []string{"m2"}, 2)
	op("a3", "alice", "delete_memory", "succeeded", []string{"m1"}, 3)
	op("a4", "alice", "create_memory", "pending", []string{}, 4)
	op("b1", "bob", "create_memory", "succeeded", []string{"m4"}, 1)
	op("b2", "bob", "forget_memories", "succeeded", []string{}, 2)
	op("b3", "bob", "create_memory", "succeeded", []string{"m5"}, 3)
	op("b4", "bob", "create_memory", "failed", []string{}, 4)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}

	reg := postgres.NewMemoryRegistry(pool)
	for user, want := range map[string][]string{"alice": {"m2"}, "bob": {"m5"}} {
		entries, _, err := reg.Page(ctx, registryScope(t, user), memory.Page{})
		var got []string
		for _, e := range entries {
			got = append(got, e.ID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s's registry = %v %v, want %v", user, got, err, want)
		}
	}
	var seq int64
	if err := pool.QueryRow(ctx, `SELECT seq FROM custom_gpt_operations WHERE id = 'a4'`).Scan(&seq); err != nil || seq != 4 {
		t.Fatalf("place of a4 = %d %v, want 4", seq, err)
	}
	// The next write of alice's scope comes after them all.
	tr := postgres.NewTransactor(pool, postgres.NewOutbox(events.Topics{Prefix: "test"}, nil, nil))
	if next := acceptOp(t, tr, "a5", "alice", operation.KindCreateMemory); next.Seq() != 5 {
		t.Fatalf("the next write's place = %d, want 5", next.Seq())
	}
	if forgot, err := reg.ForgotAfter(ctx, registryScope(t, "bob"), 1); err != nil || !forgot {
		t.Fatalf("bob's forget was not carried over: %v %v", forgot, err)
	}
}

// unmigratedPool is a pool on a new, empty database.
func unmigratedPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), pgtest.NewURL(t), 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// The end of a write finds the run of writes waiting right after it, in
// their order, up to the most asked, and stops at the first that does not
// wait for its turn.
func TestNextWaitingReturnsTheRunOfWaitingWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	first := acceptOp(t, tr, "run-0", "run", operation.KindCreateMemory)
	for i := 1; i <= 4; i++ {
		if op := acceptOp(t, tr, fmt.Sprintf("run-%d", i), "run", operation.KindCreateMemory); !op.Behind() {
			t.Fatalf("write %d was not accepted behind the pending first", i)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE custom_gpt_operations SET waiting = false WHERE id = 'run-4'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		most int
		want []string
	}{{1, []string{"run-1"}}, {2, []string{"run-1", "run-2"}}, {10, []string{"run-1", "run-2", "run-3"}}} {
		var got []string
		mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
			cmds, err := tx.NextWaiting(ctx, first, c.most)
			for _, cmd := range cmds {
				got = append(got, cmd.(*events.CreateMemory).OperationID)
			}
			return err
		})
		if !slices.Equal(got, c.want) {
			t.Errorf("at most %d: %v, want %v", c.most, got, c.want)
		}
	}
}

// TryLockOperations does not wait for an operation another transaction
// holds: it reads as missing, as one that does not exist; free, it locks it.
// The answer follows the order asked.
func TestTryLockOperationsDoesNotWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, _ := newTransactor(t)
	op := acceptOp(t, tr, "held", "", operation.KindCreateMemory)
	free := acceptOp(t, tr, "free", "", operation.KindCreateMemory)
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
			if _, err := tx.LockOperation(ctx, op.ID()); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		got, err := tx.TryLockOperations(ctx, []string{free.ID(), op.ID(), "missing"})
		if err != nil || len(got) != 3 || got[0] == nil || got[0].ID() != free.ID() || got[1] != nil || got[2] != nil {
			return fmt.Errorf("%v, %v; want the free one only, in its place", got, err)
		}
		return nil
	})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
		got, err := tx.TryLockOperations(ctx, []string{op.ID(), free.ID()})
		if err != nil || len(got) != 2 || got[0] == nil || got[0].ID() != op.ID() || got[1] == nil || got[1].ID() != free.ID() {
			return fmt.Errorf("free: %v, %v; want both in the order asked", got, err)
		}
		return nil
	})
}
