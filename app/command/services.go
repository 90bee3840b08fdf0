package command

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// MemoryBank is the part of the Memory Bank the commands use.
type MemoryBank interface {
	Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) ([]string, error)
	// FindByOperation returns the ids of memories an earlier attempt of the
	// operation already stored, so a redelivered command does not store twice.
	FindByOperation(ctx context.Context, scope memory.Scope, operationID string) ([]string, error)
}

// MemoryEditor is the part of the Memory Bank that changes what is stored. Every
// call is pinned to scope: a memory of another scope is errs.KindNotFound, exactly
// like one that does not exist.
type MemoryEditor interface {
	Update(ctx context.Context, scope memory.Scope, id, content string) error
	Delete(ctx context.Context, scope memory.Scope, id string) error
	// DeleteAll forgets every memory of scope and returns how many there were.
	DeleteAll(ctx context.Context, scope memory.Scope) (int, error)
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
	// again should the queue lose it (nil keeps none).
	InsertOperation(ctx context.Context, op *operation.Operation, cmd any) error
	// LockOperation reads an operation and locks it until the transaction ends;
	// errs.KindNotFound when it does not exist.
	LockOperation(ctx context.Context, id string) (*operation.Operation, error)
	SaveOperation(ctx context.Context, op *operation.Operation) error
	InsertAudit(ctx context.Context, e audit.Entry) error
	// CompleteAudit moves the pending entry of an operation to its terminal status.
	CompleteAudit(ctx context.Context, operationID string, status audit.Status, detail string, at time.Time) error
	// ReopenAudit moves the failed entry of an operation back to pending, for a replay.
	ReopenAudit(ctx context.Context, operationID string) error
	// Publish writes an event to the outbox; it reaches its stream after commit.
	Publish(ctx context.Context, event any) error
	// StaleCommands returns, locked, up to limit kept commands named name whose
	// operations are pending, unleased and untouched since before, and not
	// resent since before; it marks them resent at now.
	StaleCommands(ctx context.Context, name string, before, now time.Time, limit int) ([]any, error)
}
