package query

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// MemoryBank is the part of the Memory Bank the search uses.
type MemoryBank interface {
	Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error)
}

// MemoryReader is the part of the Memory Bank that reads stored memories. Every
// call is pinned to scope: a memory of another scope is errs.KindNotFound, exactly
// like one that does not exist.
type MemoryReader interface {
	Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error)
	// GetMany returns the memories of ids the Memory Bank still holds in scope,
	// in the order of ids; the others are left out.
	GetMany(ctx context.Context, scope memory.Scope, ids []string) ([]memory.Record, error)
	History(ctx context.Context, scope memory.Scope, id string) ([]memory.Change, error)
}

// Registry is the record of the memories the service stored: it, not the
// Memory Bank's capped and unordered listing, says which memories a scope has.
type Registry interface {
	// Owns tells whether memory id is one of scope's.
	Owns(ctx context.Context, scope memory.Scope, id string) (bool, error)
	// Page returns one page of scope's memories, newest first, and the cursor
	// of the next ("" on the last); a cursor it cannot read is errs.KindInvalid.
	Page(ctx context.Context, scope memory.Scope, page memory.Page) ([]memory.Registered, string, error)
}

// ReadRecorder writes a read's audit entry and its event in one transaction.
type ReadRecorder interface {
	RecordRead(ctx context.Context, e audit.Entry, event any) error
}
