package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// MemoryBank is the part of the Memory Bank the commands use to store.
type MemoryBank interface {
	// Add stores d in scope, tagged with operationID. The Memory Bank may
	// still be doing it when Add returns (Added.Pending): follow it with AddStatus.
	Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) (memory.Added, error)
	// AddStatus follows an add the Memory Bank is still doing; Pending stays
	// set until it ends. An add that failed, or that the Memory Bank no longer
	// knows, is a transient error wrapping memory.ErrWorkLost.
	AddStatus(ctx context.Context, scope memory.Scope, pending string) (memory.Added, error)
	// FindByOperation returns the ids of memories of scope tagged with
	// operationID, asking the Memory Bank for that tag (never by reading the
	// scope, which it caps), so a redelivered command does not store twice.
	// hint is the content the operation stored, to rank by.
	FindByOperation(ctx context.Context, scope memory.Scope, operationID, hint string) ([]string, error)
}

// MemoryEditor is the part of the Memory Bank that changes what is stored. Every
// call is pinned to scope: a memory of another scope is errs.KindNotFound, exactly
// like one that does not exist.
type MemoryEditor interface {
	Update(ctx context.Context, scope memory.Scope, id, content string) error
	Delete(ctx context.Context, scope memory.Scope, id string) error
	// DeleteAll asks the Memory Bank to delete every memory of scope at once.
	// async says it may still be deleting when DeleteAll returns. A Memory Bank
	// key that may not (mem0's open-source server keeps it to its admin key)
	// answers a permanent error: delete by id instead. Servers before mem0's
	// #6636 delete at most 100 per call and still answer success, so only
	// Held tells that a scope is empty.
	DeleteAll(ctx context.Context, scope memory.Scope) (async bool, err error)
	// Held returns memories the Memory Bank holds in scope now: some, not all
	// (mem0 lists at most 1000, in an order of its own), none when it is
	// empty; complete says they are all the scope holds.
	Held(ctx context.Context, scope memory.Scope) (records []memory.Record, complete bool, err error)
}

// Registry is the record of what the service stored, so that no decision
// about a write depends on what the Memory Bank lists.
type Registry interface {
	// Owns tells whether memory id is one of scope's.
	Owns(ctx context.Context, scope memory.Scope, id string) (bool, error)
	// RegisteredBefore returns the ids of scope's memories stored by writes
	// accepted before seq.
	RegisteredBefore(ctx context.Context, scope memory.Scope, seq int64) ([]string, error)
	// LastWrite returns the place of the newest write that changed memory id of
	// scope; ok is false when scope holds no such memory.
	LastWrite(ctx context.Context, scope memory.Scope, id string) (seq int64, ok bool, err error)
	// ForgotAfter tells whether a forget of scope accepted after seq succeeded.
	ForgotAfter(ctx context.Context, scope memory.Scope, seq int64) (bool, error)
	// LaterWritesStarted tells whether a write of scope accepted after seq has
	// started or ended.
	LaterWritesStarted(ctx context.Context, scope memory.Scope, seq int64) (bool, error)
	// LaterOperations returns which of opIDs are writes of scope accepted after seq.
	LaterOperations(ctx context.Context, scope memory.Scope, seq int64, opIDs []string) (map[string]bool, error)
}

// CommandSender puts a command on its stream; Watermill's CommandBus is one.
type CommandSender interface {
	Send(ctx context.Context, cmd any) error
}

// Transactor runs fn in one database transaction: everything fn writes through
// tx, events included, commits together or not at all.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what a command may write inside a transaction.
type Tx interface {
	// InsertOperation writes a new operation with the command queued for it:
	// the command is kept until the operation ends, so that it can be sent
	// again should the queue lose it (nil keeps none). It places op after
	// every write of its scope accepted before (op.Seq). When one of those is
	// still pending and cmd is kept, op is recorded waiting for its turn
	// (op.Behind): that write hands it over when it ends (NextWaiting).
	InsertOperation(ctx context.Context, op *operation.Operation, cmd any) error
	// LockOperation reads an operation and locks it until the transaction ends;
	// errs.KindNotFound when it does not exist.
	LockOperation(ctx context.Context, id string) (*operation.Operation, error)
	// LockOperations is LockOperation of each of ids, in the order of ids.
	LockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error)
	// TryLockOperations is LockOperations without waiting: nil, and no
	// error, for an operation another transaction holds (or that does not
	// exist).
	TryLockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error)
	SaveOperation(ctx context.Context, op *operation.Operation) error
	InsertAudit(ctx context.Context, e audit.Entry) error
	// CompleteAudit moves the pending entry of an operation to its terminal status.
	CompleteAudit(ctx context.Context, operationID string, status audit.Status, detail string, at time.Time) error
	// CompleteIdempotency stores the response of an Idempotency-Key with the
	// work it answers for; idempotency.ErrLockLost when the key was taken over.
	CompleteIdempotency(ctx context.Context, c idempotency.Completion) error
	// KeepCommand keeps cmd in op's row again while op is pending (a replay),
	// so that it can be sent again should the queue lose it.
	KeepCommand(ctx context.Context, op *operation.Operation, cmd any) error
	// ReopenAudit moves the failed entry of an operation back to pending, for a replay.
	ReopenAudit(ctx context.Context, operationID string) error
	// Publish writes an event to the outbox; it reaches its stream after commit.
	Publish(ctx context.Context, event any) error
	// StaleCommands returns, locked, up to limit kept commands named name whose
	// operations are pending, unleased and untouched since before, and not
	// looked at since before; it marks them looked at now.
	StaleCommands(ctx context.Context, name string, before, now time.Time, limit int) ([]KeptCommand, error)

	// WaitForEarlier tells whether a write of op's scope accepted before op is
	// still pending. If so op is marked waiting, and that earlier write sends
	// op's command again when it ends (NextWaiting). It holds op's scope until
	// the transaction ends, so the earlier write cannot end unnoticed meanwhile.
	WaitForEarlier(ctx context.Context, op *operation.Operation) (bool, error)
	// NextWaiting returns the kept commands of the writes of op's scope that
	// come right after op, in order, for as long as each is pending and
	// waiting: at most most of them, none when the next is not waiting.
	NextWaiting(ctx context.Context, op *operation.Operation, most int) ([]any, error)
	// StrandedNext looks at the pending write of op's scope that comes next
	// after op: running says an attempt holds its lease now; cmd is its kept
	// command when nobody would run it otherwise (it waits for a turn, or the
	// lease of its last attempt ran out); both empty when it needs nothing.
	StrandedNext(ctx context.Context, op *operation.Operation, now time.Time) (cmd any, running bool, err error)

	// RegisterMemories records ids as memories of op's scope that op stored.
	RegisterMemories(ctx context.Context, op *operation.Operation, ids []string, at time.Time) error
	// UnregisterMemories drops deleted memories of op's scope.
	UnregisterMemories(ctx context.Context, op *operation.Operation, ids []string) error
	// RewroteMemory records op as the newest write that changed memory id.
	RewroteMemory(ctx context.Context, op *operation.Operation, id string) error
	// ForgetScope drops every memory of op's scope stored by a write accepted
	// before op, and those op found in the Memory Bank and registered itself,
	// records op as the scope's newest forget, and returns how many it dropped.
	ForgetScope(ctx context.Context, op *operation.Operation) (int, error)
}

// KeptCommand is the command an operation keeps while pending, and the stream
// entry it was last queued as ("" when unknown).
type KeptCommand struct {
	Command any
	Entry   string
}
