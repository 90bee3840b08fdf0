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
	List(ctx context.Context, scope memory.Scope, page memory.Page) (memory.RecordPage, error)
	Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error)
	History(ctx context.Context, scope memory.Scope, id string) ([]memory.Change, error)
}

// ReadRecorder writes a read's audit entry and its event in one transaction.
type ReadRecorder interface {
	RecordRead(ctx context.Context, e audit.Entry, event any) error
}
