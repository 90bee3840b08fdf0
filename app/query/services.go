package query

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// MemoryBank is the part of the Memory Bank the queries use.
type MemoryBank interface {
	Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error)
}

// SearchRecorder writes a search's audit entry and its event in one transaction.
type SearchRecorder interface {
	RecordSearch(ctx context.Context, e audit.Entry, ev *events.MemoriesSearched) error
}
