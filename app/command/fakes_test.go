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
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
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
	forgotAsk int                  // ForgotAfter calls
	kept      map[string]any       // commands of pending operations, by operation id
	resent    map[string]time.Time // when each kept command was last resent
	entries   map[string]string    // the stream entry each kept command was queued as
	waiting   map[string]bool      // operations that stepped aside for an earlier write
	scopes    map[[2]string]fakeScope
	memories  map[string]fakeRegistered // the registry, by memory id
	replies   []idempotency.Completion  // Idempotency-Key responses stored with their work

	// handoffs receives the commands an ending operation hands the turn to.
	handoffs *fakeSender

	// beforeCommit, when set, may refuse a transaction that fn completed; the
	// transaction is then rolled back as if the database had failed the COMMIT.
	beforeCommit func(tx *fakeTx) error
}

var errCommit = errors.New("fake: commit failed")

// fakeScope is a scope's counter of writes and its newest forget.
type fakeScope struct{ lastSeq, forgotSeq int64 }

// fakeRegistered is one registry row.
type fakeRegistered struct {
	scope           [2]string
	opID            string
	seq, writtenSeq int64
	createdAt       time.Time
}

func newFakeDB() *fakeDB {
	return &fakeDB{
		ops: map[string]*operation.Operation{}, kept: map[string]any{}, resent: map[string]time.Time{},
		entries: map[string]string{}, waiting: map[string]bool{}, scopes: map[[2]string]fakeScope{},
		memories: map[string]fakeRegistered{}, handoffs: &fakeSender{},
	}
}

// sender is where ending operations hand the turn to the next waiting write.
func (db *fakeDB) sender() *fakeSender { return db.handoffs }

// registerMemory records memory id as stored in scope by an operation
// accepted before any the test runs.
func (db *fakeDB) registerMemory(scope memory.Scope, id string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.memories[id] = fakeRegistered{scope: scopeKey(scope.AppID(), scope.EndUser()), opID: "seed", createdAt: time.Now()}
}

// registered returns the ids the registry holds for scope, sorted.
func (db *fakeDB) registered(scope memory.Scope) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	var ids []string
	for id, m := range db.memories {
		if m.scope == scopeKey(scope.AppID(), scope.EndUser()) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func scopeKey(app, user string) [2]string { return [2]string{app, user} }

// The registry's reads, of what is committed, as the adapter's are.

func (db *fakeDB) Owns(_ context.Context, scope memory.Scope, id string) (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	m, ok := db.memories[id]
	return ok && m.scope == scopeKey(scope.AppID(), scope.EndUser()), nil
}

func (db *fakeDB) RegisteredBefore(_ context.Context, scope memory.Scope, seq int64) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var ids []string
	for id, m := range db.memories {
		if m.scope == scopeKey(scope.AppID(), scope.EndUser()) && m.seq < seq {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (db *fakeDB) LastWrite(_ context.Context, scope memory.Scope, id string) (int64, bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	m, ok := db.memories[id]
	if !ok || m.scope != scopeKey(scope.AppID(), scope.EndUser()) {
		return 0, false, nil
	}
	return m.writtenSeq, true, nil
}

func (db *fakeDB) ForgotAfter(_ context.Context, scope memory.Scope, seq int64) (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.forgotAsk++
	return db.scopes[scopeKey(scope.AppID(), scope.EndUser())].forgotSeq > seq, nil
}

func (db *fakeDB) LaterWritesStarted(_ context.Context, scope memory.Scope, seq int64) (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, op := range db.ops {
		if op.AppID() == scope.AppID() && op.EndUser() == scope.EndUser() && op.Seq() > seq &&
			(op.IsTerminal() || op.Attempts() > 0) {
			return true, nil
		}
	}
	return false, nil
}

func (db *fakeDB) LaterOperations(_ context.Context, scope memory.Scope, seq int64, opIDs []string) (map[string]bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := map[string]bool{}
	for _, id := range opIDs {
		if op, ok := db.ops[id]; ok && op.AppID() == scope.AppID() && op.EndUser() == scope.EndUser() && op.Seq() > seq {
			out[id] = true
		}
	}
	return out, nil
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
		entries:   maps.Clone(db.entries),
		waiting:   maps.Clone(db.waiting),
		scopes:    maps.Clone(db.scopes),
		memories:  maps.Clone(db.memories),
		replies:   slices.Clone(db.replies),
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
	db.kept, db.resent, db.entries, db.waiting = tx.kept, tx.resent, tx.entries, tx.waiting
	db.scopes, db.memories, db.replies = tx.scopes, tx.memories, tx.replies
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

// keptCommand returns the command an operation keeps, nil when none.
func (db *fakeDB) keptCommand(id string) any {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.kept[id]
}

// setEntry notes the stream entry an operation's command was queued as.
func (db *fakeDB) setEntry(id, entry string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.entries[id] = entry
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
	entries   map[string]string
	waiting   map[string]bool
	scopes    map[[2]string]fakeScope
	memories  map[string]fakeRegistered
	replies   []idempotency.Completion
}

func (tx *fakeTx) InsertOperation(_ context.Context, op *operation.Operation, cmd any) error {
	if _, ok := tx.ops[op.ID()]; ok {
		return &errs.Error{Kind: errs.KindConflict, Slug: "operation-exists"}
	}
	k := scopeKey(op.AppID(), op.EndUser())
	sc := tx.scopes[k]
	sc.lastSeq++
	tx.scopes[k] = sc
	op.Sequence(sc.lastSeq)
	// As the store does: behind a pending write of the scope, a write with a
	// kept command waits for its turn.
	behind := false
	for _, other := range tx.ops {
		if scopeKey(other.AppID(), other.EndUser()) == k && !other.IsTerminal() {
			behind = cmd != nil
		}
	}
	op.PlaceBehind(behind)
	tx.waiting[op.ID()] = behind
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

func (tx *fakeTx) LockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error) {
	ops := make([]*operation.Operation, len(ids))
	for i, id := range ids {
		op, err := tx.LockOperation(ctx, id)
		if err != nil {
			return nil, err
		}
		ops[i] = op
	}
	return ops, nil
}

// TryLockOperations: the fake runs one transaction at a time, so nothing
// else ever holds an operation.
func (tx *fakeTx) TryLockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error) {
	ops := make([]*operation.Operation, len(ids))
	for i, id := range ids {
		if _, ok := tx.ops[id]; ok {
			ops[i], _ = tx.LockOperation(ctx, id)
		}
	}
	return ops, nil
}

func (tx *fakeTx) SaveOperation(_ context.Context, op *operation.Operation) error {
	if _, ok := tx.ops[op.ID()]; !ok {
		return fmt.Errorf("save operation %s: no such row", op.ID())
	}
	tx.ops[op.ID()] = cloneOp(op)
	if op.IsTerminal() {
		delete(tx.kept, op.ID()) // as the adapter drops a finished operation's command
		delete(tx.entries, op.ID())
		delete(tx.waiting, op.ID())
	}
	return nil
}

// CompleteIdempotency records the stored response with the transaction's work.
func (tx *fakeTx) CompleteIdempotency(_ context.Context, c idempotency.Completion) error {
	if c.Lock == "lost" {
		return idempotency.ErrLockLost
	}
	tx.replies = append(tx.replies, c)
	return nil
}

func (tx *fakeTx) KeepCommand(_ context.Context, op *operation.Operation, cmd any) error {
	tx.kept[op.ID()] = cmd
	delete(tx.entries, op.ID())
	delete(tx.resent, op.ID())
	return nil
}

// WaitForEarlier mirrors the adapter: is a write of the scope with a lower
// place still pending? The answer is op's waiting mark.
func (tx *fakeTx) WaitForEarlier(_ context.Context, op *operation.Operation) (bool, error) {
	earlier := false
	for _, o := range tx.ops {
		if o.AppID() == op.AppID() && o.EndUser() == op.EndUser() && o.Seq() < op.Seq() && !o.IsTerminal() {
			earlier = true
		}
	}
	if earlier {
		tx.waiting[op.ID()] = true
	} else {
		delete(tx.waiting, op.ID())
	}
	return earlier, nil
}

// NextWaiting mirrors the adapter: the kept commands of the pending writes of
// op's scope that come next, while each is waiting.
func (tx *fakeTx) NextWaiting(ctx context.Context, op *operation.Operation, most int) ([]any, error) {
	var cmds []any
	for len(cmds) < max(most, 1) {
		cmd := tx.next(op, true)
		if cmd == nil {
			break
		}
		cmds = append(cmds, cmd)
		op = tx.nextOp(op)
	}
	return cmds, nil
}

func (tx *fakeTx) StrandedNext(_ context.Context, op *operation.Operation, now time.Time) (any, bool, error) {
	next := tx.nextOp(op)
	switch {
	case next == nil:
		return nil, false, nil
	case now.Before(next.LeaseUntil()):
		return nil, true, nil
	case tx.waiting[next.ID()] || !next.LeaseUntil().IsZero():
		return tx.kept[next.ID()], false, nil
	}
	return nil, false, nil
}

func (tx *fakeTx) next(op *operation.Operation, onlyWaiting bool) any {
	next := tx.nextOp(op)
	if next == nil || (onlyWaiting && !tx.waiting[next.ID()]) {
		return nil
	}
	return tx.kept[next.ID()]
}

// nextOp is the pending write of op's scope that comes next after op.
func (tx *fakeTx) nextOp(op *operation.Operation) *operation.Operation {
	var next *operation.Operation
	for _, o := range tx.ops {
		if o.AppID() == op.AppID() && o.EndUser() == op.EndUser() && o.Seq() > op.Seq() && !o.IsTerminal() &&
			(next == nil || o.Seq() < next.Seq()) {
			next = o
		}
	}
	return next
}

func (tx *fakeTx) RegisterMemories(_ context.Context, op *operation.Operation, ids []string, at time.Time) error {
	for _, id := range ids {
		if m, ok := tx.memories[id]; ok {
			m.writtenSeq = max(m.writtenSeq, op.Seq())
			tx.memories[id] = m
			continue
		}
		tx.memories[id] = fakeRegistered{scope: scopeKey(op.AppID(), op.EndUser()), opID: op.ID(), seq: op.Seq(), writtenSeq: op.Seq(), createdAt: at}
	}
	return nil
}

func (tx *fakeTx) UnregisterMemories(_ context.Context, op *operation.Operation, ids []string) error {
	for _, id := range ids {
		if m, ok := tx.memories[id]; ok && m.scope == scopeKey(op.AppID(), op.EndUser()) {
			delete(tx.memories, id)
		}
	}
	return nil
}

func (tx *fakeTx) RewroteMemory(_ context.Context, op *operation.Operation, id string) error {
	if m, ok := tx.memories[id]; ok && m.scope == scopeKey(op.AppID(), op.EndUser()) {
		m.writtenSeq = max(m.writtenSeq, op.Seq())
		tx.memories[id] = m
	}
	return nil
}

func (tx *fakeTx) ForgetScope(_ context.Context, op *operation.Operation) (int, error) {
	k := scopeKey(op.AppID(), op.EndUser())
	n := 0
	for id, m := range tx.memories {
		if m.scope == k && m.seq <= op.Seq() {
			delete(tx.memories, id)
			n++
		}
	}
	sc := tx.scopes[k]
	sc.forgotSeq = max(sc.forgotSeq, op.Seq())
	tx.scopes[k] = sc
	return n, nil
}

// StaleCommands mirrors the adapter's selection, in operation id order.
func (tx *fakeTx) StaleCommands(_ context.Context, name string, before, now time.Time, limit int) ([]command.KeptCommand, error) {
	var out []command.KeptCommand
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
		out = append(out, command.KeptCommand{Command: cmd, Entry: tx.entries[id]})
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
	onAdd    func(ctx context.Context) // called at the start of every Add, outside the lock
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

func (b *fakeBank) Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) (memory.Added, error) {
	b.mu.Lock()
	onAdd := b.onAdd
	b.mu.Unlock()
	if onAdd != nil {
		onAdd(ctx)
		if ctx.Err() != nil {
			return memory.Added{}, context.Cause(ctx) // the call was cut short
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.adds++
	b.lastScope, b.lastDraft, b.lastOpID = scope, d, operationID
	if len(b.addErrs) > 0 {
		err := b.addErrs[0]
		b.addErrs = b.addErrs[1:]
		if err != nil {
			return memory.Added{}, err
		}
	}
	return memory.Added{IDs: []string{b.putLocked(scope, operationID, d.Content)}}, nil
}

// AddStatus: the fake adds at once, so it has no add to follow.
func (b *fakeBank) AddStatus(context.Context, memory.Scope, string) (memory.Added, error) {
	return memory.Added{}, &memory.BankError{Transient: true, Reason: "no such add", Err: memory.ErrWorkLost}
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

func (b *fakeBank) FindByOperation(_ context.Context, scope memory.Scope, operationID, _ string) ([]string, error) {
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

func (b *fakeBank) DeleteAll(_ context.Context, scope memory.Scope) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.call("deleteAll", scope); err != nil {
		return false, err
	}
	b.memories = slices.DeleteFunc(b.memories, func(m fakeMemory) bool { return m.scope == scope })
	return false, b.afterEffect("deleteAll")
}

// Held lists at most heldCap memories of scope, as mem0 caps its listing.
func (b *fakeBank) Held(_ context.Context, scope memory.Scope) ([]memory.Record, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.call("held", scope); err != nil {
		return nil, false, err
	}
	var out []memory.Record
	complete := true
	for _, m := range b.memories {
		if m.scope != scope {
			continue
		}
		if len(out) == heldCap {
			complete = false
			break
		}
		out = append(out, memory.Record{ID: m.id, Content: m.content, Metadata: map[string]any{memory.TagOperationID: m.opID}})
	}
	return out, complete, nil
}

// heldCap is how many memories the fake lists at once: few, so that tests
// see a forget go round more than once.
const heldCap = 3

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
	mu     sync.Mutex
	err    error
	sent   []any
	onSend func(cmd any) // called first, outside the lock
}

func (s *fakeSender) Send(_ context.Context, cmd any) error {
	if s.onSend != nil {
		s.onSend(cmd)
	}
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

// ownsAll is a registry in which every memory is the caller's, for tests of
// what happens after the ownership check.
type ownsAll struct{ command.Registry }

func (ownsAll) Owns(context.Context, memory.Scope, string) (bool, error) { return true, nil }

// Accept commits what an accept writes in a transaction of its own
// (command.AcceptStore).
func (db *fakeDB) Accept(ctx context.Context, a command.Accepted) error {
	return db.InTx(ctx, func(ctx context.Context, tx command.Tx) error { return a.Write(ctx, tx) })
}

// errUnanswered is a Memory Bank call that got no answer: it may have been
// carried out.
func errUnanswered() error {
	return &memory.BankError{Transient: true, Reason: "timeout", Err: fmt.Errorf("%w: %w", memory.ErrNoAnswer, context.DeadlineExceeded)}
}
