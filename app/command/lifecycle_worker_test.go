package command_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// workerCase delivers one lifecycle command of operation opID for app/end user.
type workerCase struct {
	name   string
	method string // the fake bank's method the handler calls
	// accept writes the operation and returns its delivery.
	accept func(t *testing.T, db *fakeDB, bank *fakeBank, opID, appID, endUser string) func(context.Context) error
	// orphan returns the delivery of a command whose operation never committed.
	orphan func(db *fakeDB, bank *fakeBank, cfg command.WorkerConfig, acceptedAt time.Time) func(context.Context) error
}

var lifecycleWorkers = []workerCase{
	{
		name: "update", method: "update",
		accept: func(t *testing.T, db *fakeDB, bank *fakeBank, opID, appID, endUser string) func(context.Context) error {
			c := acceptUpdate(t, db, opID, appID, endUser, "mem-1", "v2")
			h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
		orphan: func(db *fakeDB, bank *fakeBank, cfg command.WorkerConfig, at time.Time) func(context.Context) error {
			h := command.NewUpdateMemoryHandler(db, db.sender(), bank, db, cfg, nil, nil)
			c := events.UpdateMemory{Header: events.Header{OperationID: "never-committed", AppID: "app-1", AcceptedAt: at}, MemoryID: "mem-1", Content: "x"}
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
	},
	{
		name: "delete", method: "delete",
		accept: func(t *testing.T, db *fakeDB, bank *fakeBank, opID, appID, endUser string) func(context.Context) error {
			c := acceptDelete(t, db, opID, appID, endUser, "mem-1")
			h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
		orphan: func(db *fakeDB, bank *fakeBank, cfg command.WorkerConfig, at time.Time) func(context.Context) error {
			h := command.NewDeleteMemoryHandler(db, db.sender(), bank, db, cfg, nil, nil)
			c := events.DeleteMemory{Header: events.Header{OperationID: "never-committed", AppID: "app-1", AcceptedAt: at}, MemoryID: "mem-1"}
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
	},
	{
		name: "forget", method: "deleteAll",
		accept: func(t *testing.T, db *fakeDB, bank *fakeBank, opID, appID, endUser string) func(context.Context) error {
			c := acceptForget(t, db, opID, appID, endUser)
			h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, command.WorkerConfig{}, nil, nil)
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
		orphan: func(db *fakeDB, bank *fakeBank, cfg command.WorkerConfig, at time.Time) func(context.Context) error {
			h := command.NewForgetMemoriesHandler(db, db.sender(), bank, db, cfg, nil, nil)
			c := events.ForgetMemories{Header: events.Header{OperationID: "never-committed", AppID: "app-1", AcceptedAt: at}}
			return func(ctx context.Context) error { return h.Handle(ctx, c) }
		},
	},
}

func TestLifecycleWorkers_orphanCommand(t *testing.T) {
	t.Parallel()

	const orphanAfter = time.Minute
	for _, w := range lifecycleWorkers {
		for _, tt := range []struct {
			name       string
			acceptedAt time.Time
			wantRetry  bool
		}{
			{"old orphan is dropped", time.Now().Add(-2 * orphanAfter), false},
			{"fresh orphan is retried", time.Now(), true},
		} {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				db, bank := newFakeDB(), newFakeBank()
				err := w.orphan(db, bank, command.WorkerConfig{OrphanAfter: orphanAfter}, tt.acceptedAt)(context.Background())
				if tt.wantRetry {
					if !errors.Is(err, command.ErrOrphanCommand) || !command.IsRetryLater(err) {
						t.Errorf("Handle = %v, want ErrOrphanCommand", err)
					}
				} else if err != nil {
					t.Errorf("Handle = %v, want nil", err)
				}
				if n := bank.callCount(w.method); n != 0 {
					t.Errorf("Memory Bank called %d times for an orphan", n)
				}
				if db.operationCount() != 0 || db.auditCount() != 0 || len(db.published()) != 0 {
					t.Error("orphan command wrote something")
				}
			})
		}
	}
}

func TestLifecycleWorkers_terminalOperationIsAcknowledged(t *testing.T) {
	t.Parallel()

	for _, w := range lifecycleWorkers {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			deliver := w.accept(t, db, bank, "op-1", "app-1", "")
			op := db.operation("op-1")
			if err := op.Fail(operation.Failure{Code: "retries-exhausted"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			db.putOperation(op)

			if err := deliver(context.Background()); err != nil {
				t.Fatalf("Handle = %v, want nil", err)
			}
			if n := bank.callCount(w.method); n != 0 {
				t.Errorf("Memory Bank called %d times for a finished operation", n)
			}
			if got := db.operation("op-1"); got.Status() != operation.StatusFailed || got.Attempts() != 0 {
				t.Errorf("finished operation changed: %q, attempts %d", got.Status(), got.Attempts())
			}
		})
	}
}

func TestLifecycleWorkers_invalidScopeFailsOperation(t *testing.T) {
	t.Parallel()

	for _, w := range lifecycleWorkers {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			if w.name != "forget" {
				// An update or delete looks its memory up in the scope at
				// accept: an invalid scope never reaches a worker.
				err := command.NewAcceptDeleteMemoryHandler(db, &fakeSender{}, ownsAll{}, nil, nil).Handle(context.Background(),
					command.AcceptDeleteMemory{Acceptance: command.Acceptance{OperationID: "op-1", AppID: "bad:app"}, MemoryID: "mem-1"})
				if errs.KindOf(err) != errs.KindInvalid || db.operationCount() != 0 {
					t.Fatalf("accept with an invalid scope = %v, %d operations", err, db.operationCount())
				}
				return
			}
			deliver := w.accept(t, db, bank, "op-1", "bad:app", "")

			if err := deliver(context.Background()); err != nil {
				t.Fatalf("Handle = %v, want nil", err)
			}
			if n := bank.callCount(w.method); n != 0 {
				t.Error("Memory Bank called with an invalid scope")
			}
			requireFailedWith(t, db, "op-1", "invalid-scope")
		})
	}
}

// A duplicate delivered while another worker holds the lease backs off without
// calling the Memory Bank, and asks to be redelivered later.
func TestLifecycleWorkers_leasedOperationBacksOff(t *testing.T) {
	t.Parallel()

	for _, w := range lifecycleWorkers {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			db, bank := newFakeDB(), newFakeBank()
			deliver := w.accept(t, db, bank, "op-1", "app-1", "")
			op := db.operation("op-1")
			if err := op.Claim(time.Now(), time.Hour); err != nil {
				t.Fatal(err)
			}
			db.putOperation(op)

			err := deliver(context.Background())
			if !errors.Is(err, operation.ErrLeased) || !command.IsRetryLater(err) {
				t.Fatalf("Handle = %v, want ErrLeased", err)
			}
			if n := bank.callCount(w.method); n != 0 {
				t.Errorf("Memory Bank called %d times under another worker's lease", n)
			}
		})
	}
}
