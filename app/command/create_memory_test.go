package command_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

func mustScope(t *testing.T, appID, endUser string) memory.Scope {
	t.Helper()
	s, err := memory.NewScope(appID, endUser)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireSucceeded checks the committed outcome of a successful operation:
// operation, audit entry and exactly one MemoryCreated, all agreeing on ids.
func requireSucceeded(t *testing.T, db *fakeDB, c events.CreateMemory, wantIDs []string) {
	t.Helper()
	op := db.operation(c.OperationID)
	if op.Status() != operation.StatusSucceeded {
		t.Fatalf("operation status = %q, want succeeded (failure %+v)", op.Status(), op.Failure())
	}
	if !slices.Equal(op.MemoryIDs(), wantIDs) {
		t.Errorf("operation memory ids = %v, want %v", op.MemoryIDs(), wantIDs)
	}
	if !op.LeaseUntil().IsZero() {
		t.Errorf("lease %v kept on a finished operation", op.LeaseUntil())
	}

	entries := db.auditsOf(c.OperationID)
	if len(entries) != 1 {
		t.Fatalf("audit entries = %+v, want one", entries)
	}
	if e := entries[0]; e.Status != audit.StatusSucceeded || e.CompletedAt.IsZero() || e.CompletedAt.Before(e.OccurredAt) {
		t.Errorf("audit entry = %+v, want completed succeeded", e)
	}

	created := publishedOf[*events.MemoryCreated](db)
	if len(created) != 1 {
		t.Fatalf("%d MemoryCreated events, want 1", len(created))
	}
	ev := created[0]
	if ev.Version != events.Version || ev.OperationID != c.OperationID || ev.AppID != c.AppID || ev.EndUser != c.EndUser ||
		ev.RequestID != c.RequestID || !slices.Equal(ev.MemoryIDs, wantIDs) || ev.OccurredAt.IsZero() {
		t.Errorf("MemoryCreated = %+v", ev)
	}
	if failed := publishedOf[*events.MemoryCreationFailed](db); len(failed) != 0 {
		t.Errorf("MemoryCreationFailed published for a success: %+v", failed)
	}
}

func TestCreateMemory_success(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "user-1")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if bank.addCalls() != 1 {
		t.Fatalf("Add called %d times, want 1", bank.addCalls())
	}
	if bank.findCalls() != 0 {
		t.Errorf("FindByOperation called %d times on a first attempt", bank.findCalls())
	}
	scope := mustScope(t, "app-1", "user-1")
	if bank.lastScope != scope || bank.lastScope.UserID() != "app-1:user-1" {
		t.Errorf("Add scope = %+v, want %+v", bank.lastScope, scope)
	}
	if bank.lastOpID != "op-1" || bank.lastDraft.Content != "likes green tea" || bank.lastDraft.ConversationID != "conv-1" ||
		!maps.Equal(bank.lastDraft.Metadata, map[string]any{"topic": "drinks", "score": 3.5}) {
		t.Errorf("Add got op %q draft %+v", bank.lastOpID, bank.lastDraft)
	}
	requireSucceeded(t, db, c, bank.stored(scope, "op-1"))
	if got := db.operation("op-1").MemoryIDs(); !slices.Equal(got, []string{"mem-1"}) {
		t.Errorf("memory ids = %v, want [mem-1]", got)
	}
	if got := db.operation("op-1").Attempts(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestCreateMemory_redeliveryIsIdempotent(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	for i := range 2 {
		if err := h.Handle(context.Background(), c); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if bank.addCalls() != 1 {
		t.Errorf("Add called %d times, want 1", bank.addCalls())
	}
	requireSucceeded(t, db, c, []string{"mem-1"})
	if n := db.auditCount(); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
}

// A duplicate delivered while the first is inside the Memory Bank call must back
// off without calling the Memory Bank.
func TestCreateMemory_concurrentDuplicateBacksOff(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	bank.onAdd = func(context.Context) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
	}

	first := make(chan error, 1)
	go func() { first <- h.Handle(context.Background(), c) }()
	<-entered

	if err := h.Handle(context.Background(), c); !errors.Is(err, operation.ErrLeased) {
		t.Errorf("duplicate during the call = %v, want ErrLeased", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Add called %d times, want 1", n)
	}
	requireSucceeded(t, db, c, []string{"mem-1"})
}

func TestCreateMemory_permanentBankError(t *testing.T) {
	t.Parallel()

	rejected := &memory.BankError{StatusCode: 400, Reason: "content rejected"}
	tests := []struct {
		name string
		err  error
	}{
		{"bank error", rejected},
		{"wrapped bank error", fmt.Errorf("mem0 add: %w", rejected)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			bank.addErrs = []error{tt.err}
			c := accept(t, db, "op-1", "app-1", "user-1")
			h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

			if err := h.Handle(context.Background(), c); err != nil {
				t.Fatalf("Handle = %v, want nil: a permanent failure is not retried", err)
			}

			op := db.operation("op-1")
			if op.Status() != operation.StatusFailed {
				t.Fatalf("status = %q, want failed", op.Status())
			}
			if f := op.Failure(); f == nil || f.Code != "memory-bank-rejected" || f.Detail != "content rejected" {
				t.Errorf("failure = %+v", f)
			}
			entries := db.auditsOf("op-1")
			if len(entries) != 1 || entries[0].Status != audit.StatusFailed || entries[0].CompletedAt.IsZero() ||
				!strings.HasPrefix(entries[0].Detail, "memory-bank-rejected") {
				t.Errorf("audit = %+v, want one failed entry", entries)
			}
			failed := publishedOf[*events.MemoryCreationFailed](db)
			if len(failed) != 1 {
				t.Fatalf("%d MemoryCreationFailed events, want 1", len(failed))
			}
			if ev := failed[0]; ev.OperationID != "op-1" || ev.AppID != "app-1" || ev.EndUser != "user-1" ||
				ev.Code != "memory-bank-rejected" || ev.Detail != "content rejected" || ev.RequestID != c.RequestID ||
				ev.Version != events.Version {
				t.Errorf("MemoryCreationFailed = %+v", ev)
			}
			if n := len(publishedOf[*events.MemoryCreated](db)); n != 0 {
				t.Errorf("%d MemoryCreated events for a failure", n)
			}

			// A redelivery of the failed command changes nothing.
			if err := h.Handle(context.Background(), c); err != nil {
				t.Errorf("redelivery = %v", err)
			}
			if bank.addCalls() != 1 || len(db.published()) != 1 {
				t.Errorf("redelivery of a failed operation: %d Add calls, %d events", bank.addCalls(), len(db.published()))
			}
		})
	}
}

func TestCreateMemory_transientErrorReleasesLease(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		err  error
	}{
		{"transient bank error", &memory.BankError{Transient: true, StatusCode: 503, Reason: "unavailable"}},
		{"timeout", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			bank.addErrs = []error{tt.err}
			c := accept(t, db, "op-1", "app-1", "")
			// A lease far longer than the test: only Release lets the retry in.
			h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

			err := h.Handle(context.Background(), c)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Handle = %v, want the transient error", err)
			}
			op := db.operation("op-1")
			if op.Status() != operation.StatusPending || op.Attempts() != 1 || !op.LeaseUntil().IsZero() {
				t.Errorf("after transient error: status %q, attempts %d, lease %v", op.Status(), op.Attempts(), op.LeaseUntil())
			}
			if e := db.auditsOf("op-1"); len(e) != 1 || e[0].Status != audit.StatusPending {
				t.Errorf("audit = %+v, want still pending", e)
			}
			if evs := db.published(); len(evs) != 0 {
				t.Errorf("events published after a transient error: %v", evs)
			}

			// The retry reaches the Memory Bank at once.
			if err := h.Handle(context.Background(), c); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if bank.addCalls() != 2 {
				t.Errorf("Add called %d times, want 2", bank.addCalls())
			}
			requireSucceeded(t, db, c, []string{"mem-1"})
			if got := db.operation("op-1").Attempts(); got != 2 {
				t.Errorf("attempts = %d, want 2", got)
			}
		})
	}
}

// A call that got no answer may still be carried out by the Memory Bank: the
// lease stays, so an immediate retry neither looks for the memory too early
// nor stores it a second time.
func TestCreateMemory_unansweredCallKeepsLease(t *testing.T) {
	t.Parallel()
	db, bank := newFakeDB(), newFakeBank()
	bank.addErrs = []error{errUnanswered()}
	c := accept(t, db, "op-1", "app-1", "")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, memory.ErrNoAnswer) {
		t.Fatalf("Handle = %v, want the unanswered call", err)
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending || op.LeaseUntil().IsZero() {
		t.Fatalf("after an unanswered call: status %q, lease %v, want pending and still leased", op.Status(), op.LeaseUntil())
	}
	if err := h.Handle(context.Background(), c); !errors.Is(err, operation.ErrLeased) {
		t.Fatalf("retry = %v, want ErrLeased until the lease ends", err)
	}
	if n := bank.addCalls(); n != 1 {
		t.Errorf("Add called %d times, want 1", n)
	}
}

// The worker stores the memory, then dies (or loses the database) before the
// completion commits. The redelivery must find that memory instead of storing a
// second copy.
func TestCreateMemory_crashAfterBankCallBeforeCommit(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "user-1")
	var refused atomic.Int32
	db.beforeCommit = func(tx *fakeTx) error {
		if len(tx.newEvents) > 0 && refused.Add(1) == 1 {
			return errCommit // the completion transaction, once
		}
		return nil
	}
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Millisecond}, nil, nil)

	if err := h.Handle(context.Background(), c); !errors.Is(err, errCommit) {
		t.Fatalf("first Handle = %v, want the commit failure", err)
	}
	if bank.addCalls() != 1 {
		t.Fatalf("Add called %d times, want 1", bank.addCalls())
	}
	firstIDs := bank.stored(mustScope(t, "app-1", "user-1"), "op-1")
	if op := db.operation("op-1"); op.Status() != operation.StatusPending || len(op.MemoryIDs()) != 0 {
		t.Fatalf("the failed commit left status %q, ids %v", op.Status(), op.MemoryIDs())
	}
	if n := len(db.published()); n != 0 {
		t.Fatalf("%d events survived the failed commit", n)
	}

	// The lease of the first attempt was never released: retry until it expires.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := h.Handle(context.Background(), c)
		if err == nil {
			break
		}
		if !errors.Is(err, operation.ErrLeased) {
			t.Fatalf("redelivery = %v, want nil or ErrLeased", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("lease never expired")
		}
		runtime.Gosched()
	}

	if bank.addCalls() != 1 {
		t.Errorf("Add called %d times in total, want 1", bank.addCalls())
	}
	if bank.findCalls() == 0 {
		t.Error("the redelivery did not look for the earlier attempt's memory")
	}
	requireSucceeded(t, db, c, firstIDs)
	if got := db.operation("op-1").Attempts(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestCreateMemory_orphanCommand(t *testing.T) {
	t.Parallel()

	const orphanAfter = time.Minute
	tests := []struct {
		name       string
		acceptedAt time.Time
		wantRetry  bool
	}{
		{"old orphan is dropped", time.Now().Add(-2 * orphanAfter), false},
		{"fresh orphan is retried", time.Now(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{OrphanAfter: orphanAfter}, nil, nil)
			c := events.CreateMemory{Header: events.Header{OperationID: "never-committed", AppID: "app-1", AcceptedAt: tt.acceptedAt}, Draft: memory.Draft{Content: "x"}}

			err := h.Handle(context.Background(), c)
			if tt.wantRetry {
				if !errors.Is(err, command.ErrOrphanCommand) {
					t.Errorf("Handle = %v, want ErrOrphanCommand", err)
				}
			} else if err != nil {
				t.Errorf("Handle = %v, want nil", err)
			}
			if bank.addCalls() != 0 || bank.findCalls() != 0 {
				t.Errorf("Memory Bank called for an orphan: %d adds, %d finds", bank.addCalls(), bank.findCalls())
			}
			if db.operationCount() != 0 || db.auditCount() != 0 || len(db.published()) != 0 {
				t.Error("orphan command wrote something")
			}
		})
	}
}

func TestCreateMemory_terminalOperationIsAcknowledged(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "app-1", "")
	op := db.operation("op-1")
	if err := op.Fail(operation.Failure{Code: "retries-exhausted"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.putOperation(op)
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	if bank.addCalls() != 0 || bank.findCalls() != 0 {
		t.Error("Memory Bank called for a finished operation")
	}
	if got := db.operation("op-1"); got.Status() != operation.StatusFailed || got.Attempts() != 0 {
		t.Errorf("finished operation changed: %q, attempts %d", got.Status(), got.Attempts())
	}
}

func TestCreateMemory_findErrorOnRetry(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	bank.addErrs = []error{&memory.BankError{Transient: true, Reason: "down"}}
	c := accept(t, db, "op-1", "app-1", "")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{Lease: time.Hour}, nil, nil)
	if err := h.Handle(context.Background(), c); err == nil {
		t.Fatal("first attempt succeeded despite the transient error")
	}

	// The retry cannot tell whether the first attempt stored anything, so it must
	// not add blindly.
	findErr := &memory.BankError{Transient: true, Reason: "list failed"}
	bank.mu.Lock()
	bank.findErr = findErr
	bank.mu.Unlock()
	if err := h.Handle(context.Background(), c); !errors.Is(err, findErr) {
		t.Fatalf("retry = %v, want the find error", err)
	}
	if bank.addCalls() != 1 {
		t.Errorf("Add called %d times, want 1", bank.addCalls())
	}
	if op := db.operation("op-1"); op.Status() != operation.StatusPending || !op.LeaseUntil().IsZero() {
		t.Errorf("after find error: status %q, lease %v", op.Status(), op.LeaseUntil())
	}
}

func TestCreateMemory_invalidScopeFailsOperation(t *testing.T) {
	t.Parallel()

	db, bank := newFakeDB(), newFakeBank()
	c := accept(t, db, "op-1", "bad:app", "")
	h := command.NewCreateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)

	if err := h.Handle(context.Background(), c); err != nil {
		t.Fatalf("Handle = %v, want nil", err)
	}
	if bank.addCalls() != 0 {
		t.Error("Memory Bank called with an invalid scope")
	}
	op := db.operation("op-1")
	if op.Status() != operation.StatusFailed || op.Failure() == nil || op.Failure().Code != "invalid-scope" {
		t.Errorf("operation = %q %+v, want failed invalid-scope", op.Status(), op.Failure())
	}
}
