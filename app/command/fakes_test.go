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
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
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
	kept      map[string]any       // commands of pending operations, by operation id
	resent    map[string]time.Time // when each kept command was last resent

	// beforeCommit, when set, may refuse a transaction that fn completed; the
	// transaction is then rolled back as if the database had failed the COMMIT.
	beforeCommit func(tx *fakeTx) error
}

var errCommit = errors.New("fake: commit failed")

func newFakeDB() *fakeDB {
	return &fakeDB{ops: map[string]*operation.Operation{}, kept: map[string]any{}, resent: map[string]time.Time{}}
}

func (db *fakeDB) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()

	tx := &fakeTx{
		ops:       maps.Clone(db.ops),
		audits:    slices.Clone(db.audits),
		events:    slices.Clone(db.events),
		nextAudit: db.nextAudit,
		kept:      maps.Clone(db.kept),
		resent:    maps.Clone(db.resent),
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
	db.kept, db.resent = tx.kept, tx.resent
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
	kept      map[string]any
	resent    map[string]time.Time
}

func (tx *fakeTx) InsertOperation(_ context.Context, op *operation.Operation, cmd any) error {
	if _, ok := tx.ops[op.ID()]; ok {
		return &errs.Error{Kind: errs.KindConflict, Slug: "operation-exists"}
	}
	tx.ops[op.ID()] = cloneOp(op)
	if cmd != nil {
		tx.kept[op.ID()] = cmd
	}
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
	if op.IsTerminal() {
		delete(tx.kept, op.ID()) // as the adapter drops a finished operation's command
	}
	return nil
}

// StaleCommands mirrors the adapter's selection, in operation id order.
func (tx *fakeTx) StaleCommands(_ context.Context, name string, before, now time.Time, limit int) ([]any, error) {
	var out []any
	for _, id := range slices.Sorted(maps.Keys(tx.kept)) {
		op, cmd := tx.ops[id], tx.kept[id]
		if len(out) == limit || events.Name(cmd) != name || op.IsTerminal() || !op.UpdatedAt().Before(before) ||
			op.LeaseUntil().After(now) {
			continue
		}
		if at, ok := tx.resent[id]; ok && !at.Before(before) {
			continue
		}
		tx.resent[id] = now
		out = append(out, cmd)
	}
	return out, nil
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

func (tx *fakeTx) ReopenAudit(_ context.Context, operationID string) error {
	for i := range tx.audits {
		e := &tx.audits[i]
		if e.OperationID == operationID && e.Status == audit.StatusFailed {
			e.Status, e.Detail, e.CompletedAt = audit.StatusPending, "", time.Time{}
		}
	}
	return nil
}

func (tx *fakeTx) Publish(_ context.Context, event any) error {
	tx.events = append(tx.events, event)
	tx.newEvents = append(tx.newEvents, event)
	return nil
}

// fakeBank is a Memory Bank in memory. Like the real adapters it pins every call to
// its scope: FindByOperation answers only for the scope a memory was added in, and
// a memory of another scope is as missing to Update and Delete as one that never
// existed.
type fakeBank struct {
	mu       sync.Mutex
	adds     int
	finds    int
	addErrs  []error // returned by the next Add calls, in order; nil entries succeed
	findErr  error
	onAdd    func() // called at the start of every Add, outside the lock
	memories []fakeMemory
	nextID   int

	lastScope memory.Scope
	lastDraft memory.Draft
	lastOpID  string

	// The lifecycle calls, counted per method ("update", "delete", "deleteAll").
	// errs[method] is returned by its next calls, in order, before any effect;
	// nil entries go through. after[method] errors are returned by the next calls
	// after the effect, as a timeout after the server did the work would be.
	calls      map[string]int
	errs       map[string][]error
	after      map[string][]error
	lastScopes map[string]memory.Scope
}

type fakeMemory struct {
	id      string
	scope   memory.Scope
	opID    string
	content string
}

func newFakeBank() *fakeBank {
	return &fakeBank{
		calls: map[string]int{}, errs: map[string][]error{}, after: map[string][]error{},
		lastScopes: map[string]memory.Scope{},
	}
}

// errMemoryNotFound is what both adapters answer for a memory missing from the
// scope: a NotFound wrapping a permanent BankError.
func errMemoryNotFound() error {
	return &errs.Error{Kind: errs.KindNotFound, Slug: "memory-not-found", Detail: "no memory with this id",
		Err: &memory.BankError{Reason: "memory not found"}}
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
	return []string{b.putLocked(scope, operationID, d.Content)}, nil
}

func (b *fakeBank) putLocked(scope memory.Scope, opID, content string) string {
	b.nextID++
	id := fmt.Sprintf("mem-%d", b.nextID)
	b.memories = append(b.memories, fakeMemory{id: id, scope: scope, opID: opID, content: content})
	return id
}

// put stores a memory directly, as if an earlier operation had, and returns its id.
func (b *fakeBank) put(scope memory.Scope, content string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.putLocked(scope, "", content)
}

func (b *fakeBank) FindByOperation(_ context.Context, scope memory.Scope, operationID string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finds++
	if b.findErr != nil {
		return nil, b.findErr
	}
	var ids []string
	for _, m := range b.memories {
		if m.scope == scope && m.opID == operationID {
			ids = append(ids, m.id)
		}
	}
	return ids, nil
}

// call counts a lifecycle call and returns the error queued before its effect.
func (b *fakeBank) call(method string, scope memory.Scope) error {
	b.calls[method]++
	b.lastScopes[method] = scope
	if q := b.errs[method]; len(q) > 0 {
		b.errs[method] = q[1:]
		return q[0]
	}
	return nil
}

// afterEffect returns the error queued for after the effect of method.
func (b *fakeBank) afterEffect(method string) error {
	if q := b.after[method]; len(q) > 0 {
		b.after[method] = q[1:]
		return q[0]
	}
	return nil
}

func (b *fakeBank) indexLocked(scope memory.Scope, id string) int {
	return slices.IndexFunc(b.memories, func(m fakeMemory) bool { return m.id == id && m.scope == scope })
}

func (b *fakeBank) Update(_ context.Context, scope memory.Scope, id, content string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.call("update", scope); err != nil {
		return err
	}
	i := b.indexLocked(scope, id)
	if i < 0 {
		return errMemoryNotFound()
	}
	b.memories[i].content = content
	return b.afterEffect("update")
}

func (b *fakeBank) Delete(_ context.Context, scope memory.Scope, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.call("delete", scope); err != nil {
		return err
	}
	i := b.indexLocked(scope, id)
	if i < 0 {
		return errMemoryNotFound()
	}
	b.memories = slices.Delete(b.memories, i, i+1)
	return b.afterEffect("delete")
}

func (b *fakeBank) DeleteAll(_ context.Context, scope memory.Scope) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.call("deleteAll", scope); err != nil {
		return 0, err
	}
	n := len(b.memories)
	b.memories = slices.DeleteFunc(b.memories, func(m fakeMemory) bool { return m.scope == scope })
	n -= len(b.memories)
	if err := b.afterEffect("deleteAll"); err != nil {
		return 0, err
	}
	return n, nil
}

// failNext queues errors for the next calls of method, before their effect.
func (b *fakeBank) failNext(method string, queued ...error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs[method] = append(b.errs[method], queued...)
}

// failAfter queues errors for the next calls of method, after their effect.
func (b *fakeBank) failAfter(method string, queued ...error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.after[method] = append(b.after[method], queued...)
}

func (b *fakeBank) callCount(method string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[method]
}

func (b *fakeBank) lastScopeOf(method string) memory.Scope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastScopes[method]
}

// content returns the content of the memory id, and whether it exists in any scope.
func (b *fakeBank) content(id string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.memories {
		if m.id == id {
			return m.content, true
		}
	}
	return "", false
}

// count returns how many memories scope holds.
func (b *fakeBank) count(scope memory.Scope) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.memories {
		if m.scope == scope {
			n++
		}
	}
	return n
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
	var ids []string
	for _, m := range b.memories {
		if m.scope == scope && m.opID == opID {
			ids = append(ids, m.id)
		}
	}
	return ids
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
