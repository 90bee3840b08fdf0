package command_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// fakeDB is an in-memory unit of work. A transaction works on a copy of the
// state and replaces it only on commit, so whatever a failing fn (or a failing
// commit) wrote is gone. Transactions run one at a time, which is what row locks
// on one operation give the real adapter.
type fakeDB struct {
	mu        sync.Mutex
	ops       map[string]*operation.Operation
	audits    []audit.Entry
	events    []any
	nextAudit int64
	commits   int

	// beforeCommit, when set, may refuse a transaction that fn completed; the
	// transaction is then rolled back as if the database had failed the COMMIT.
	beforeCommit func(tx *fakeTx) error
}

var errCommit = errors.New("fake: commit failed")

func newFakeDB() *fakeDB { return &fakeDB{ops: map[string]*operation.Operation{}} }

func (db *fakeDB) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()

	tx := &fakeTx{
		ops:       maps.Clone(db.ops),
		audits:    slices.Clone(db.audits),
		events:    slices.Clone(db.events),
		nextAudit: db.nextAudit,
	}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(tx); err != nil {
			return err
		}
	}
	db.ops, db.audits, db.events, db.nextAudit = tx.ops, tx.audits, tx.events, tx.nextAudit
	db.commits++
	return nil
}

// operation returns a copy of the committed operation, nil when there is none.
func (db *fakeDB) operation(id string) *operation.Operation {
	db.mu.Lock()
	defer db.mu.Unlock()
	if op, ok := db.ops[id]; ok {
		return cloneOp(op)
	}
	return nil
}

func (db *fakeDB) operationCount() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.ops)
}

// auditsOf returns the committed audit entries of an operation.
func (db *fakeDB) auditsOf(opID string) []audit.Entry {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []audit.Entry
	for _, e := range db.audits {
		if e.OperationID == opID {
			out = append(out, e)
		}
	}
	return out
}

func (db *fakeDB) auditCount() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.audits)
}

func (db *fakeDB) published() []any {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.events)
}

// putOperation stores an operation directly, outside any handler.
func (db *fakeDB) putOperation(op *operation.Operation) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.ops[op.ID()] = cloneOp(op)
}

// publishedOf returns the committed events of type T.
func publishedOf[T any](db *fakeDB) []T {
	var out []T
	for _, ev := range db.published() {
		if e, ok := ev.(T); ok {
			out = append(out, e)
		}
	}
	return out
}

func cloneOp(op *operation.Operation) *operation.Operation {
	c := *op
	return &c
}

type fakeTx struct {
	ops       map[string]*operation.Operation
	audits    []audit.Entry
	events    []any
	nextAudit int64
	newEvents []any // published in this transaction
}

func (tx *fakeTx) InsertOperation(_ context.Context, op *operation.Operation) error {
	if _, ok := tx.ops[op.ID()]; ok {
		return &errs.Error{Kind: errs.KindConflict, Slug: "operation-exists"}
	}
	tx.ops[op.ID()] = cloneOp(op)
	return nil
}

func (tx *fakeTx) LockOperation(_ context.Context, id string) (*operation.Operation, error) {
	op, ok := tx.ops[id]
	if !ok {
		return nil, fmt.Errorf("lock operation: %w", errs.NotFound("operation-not-found", "operation"))
	}
	// A copy: a change the handler does not save must not reach the store.
	return cloneOp(op), nil
}

func (tx *fakeTx) SaveOperation(_ context.Context, op *operation.Operation) error {
	if _, ok := tx.ops[op.ID()]; !ok {
		return fmt.Errorf("save operation %s: no such row", op.ID())
	}
	tx.ops[op.ID()] = cloneOp(op)
	return nil
}

func (tx *fakeTx) InsertAudit(_ context.Context, e audit.Entry) error {
	tx.nextAudit++
	e.ID = tx.nextAudit
	tx.audits = append(tx.audits, e)
	return nil
}

// CompleteAudit mirrors the adapter: only a pending entry moves, so a second
// completion is a no-op.
func (tx *fakeTx) CompleteAudit(_ context.Context, operationID string, status audit.Status, detail string, at time.Time) error {
	for i := range tx.audits {
		e := &tx.audits[i]
		if e.OperationID == operationID && e.Status == audit.StatusPending {
			e.Status, e.Detail, e.CompletedAt = status, detail, at
		}
	}
	return nil
}

func (tx *fakeTx) Publish(_ context.Context, event any) error {
	tx.events = append(tx.events, event)
	tx.newEvents = append(tx.newEvents, event)
	return nil
}

// fakeBank stores memories per scope and operation, so FindByOperation answers
// only for the scope the memory was added in.
type fakeBank struct {
	mu       sync.Mutex
	adds     int
	finds    int
	addErrs  []error // returned by the next Add calls, in order; nil entries succeed
	findErr  error
	onAdd    func() // called at the start of every Add, outside the lock
	memories map[string][]string
	nextID   int

	lastScope memory.Scope
	lastDraft memory.Draft
	lastOpID  string
}

func newFakeBank() *fakeBank { return &fakeBank{memories: map[string][]string{}} }

func bankKey(scope memory.Scope, opID string) string {
	return scope.AgentID() + "|" + scope.UserID() + "|" + opID
}

func (b *fakeBank) Add(_ context.Context, scope memory.Scope, d memory.Draft, operationID string) ([]string, error) {
	b.mu.Lock()
	onAdd := b.onAdd
	b.mu.Unlock()
	if onAdd != nil {
		onAdd()
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.adds++
	b.lastScope, b.lastDraft, b.lastOpID = scope, d, operationID
	if len(b.addErrs) > 0 {
		err := b.addErrs[0]
		b.addErrs = b.addErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	b.nextID++
	id := fmt.Sprintf("mem-%d", b.nextID)
	key := bankKey(scope, operationID)
	b.memories[key] = append(b.memories[key], id)
	return []string{id}, nil
}

func (b *fakeBank) FindByOperation(_ context.Context, scope memory.Scope, operationID string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finds++
	if b.findErr != nil {
		return nil, b.findErr
	}
	return slices.Clone(b.memories[bankKey(scope, operationID)]), nil
}

func (b *fakeBank) addCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.adds
}

func (b *fakeBank) findCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.finds
}

func (b *fakeBank) stored(scope memory.Scope, opID string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.memories[bankKey(scope, opID)])
}

// fakeSender records the commands it sends, or fails with err.
type fakeSender struct {
	mu   sync.Mutex
	err  error
	sent []any
}

func (s *fakeSender) Send(_ context.Context, cmd any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, cmd)
	return nil
}

func (s *fakeSender) commands() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}
