package query

import (
	"context"
	"iter"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// ExportMemories reads every memory of one memory space, with its history,
// so that its owner can take it elsewhere.
type ExportMemories struct {
	AppID     string
	EndUser   string
	RequestID string
}

// Export yields the memories newest first, as it reads them: an export is
// bounded only by the data, never held whole in memory. An error ends it.
type Export struct {
	Memories iter.Seq2[ExportedMemory, error]
}

// ExportedMemory is one memory and its changes, oldest first.
type ExportedMemory struct {
	Record  memory.Record
	History []memory.Change
}

type ExportMemoriesHandler decorator.QueryHandler[ExportMemories, Export]

type exportMemoriesHandler struct {
	registry Registry
	bank     MemoryReader
	recorder ReadRecorder
}

func NewExportMemoriesHandler(registry Registry, bank MemoryReader, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) ExportMemoriesHandler {
	return decorator.ApplyQueryDecorators[ExportMemories, Export](exportMemoriesHandler{registry: registry, bank: bank, recorder: rec}, log, m)
}

// exportPage is how many memories an export reads from the Memory Bank at once.
const exportPage = 100

// Handle audits the export and publishes MemoriesExported before any memory
// is read, like every read is audited before it is answered; the memories are
// then read page by page from the registry as the caller consumes them.
func (h exportMemoriesHandler) Handle(ctx context.Context, q ExportMemories) (Export, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return Export{}, err
	}
	call := read{appID: q.AppID, endUser: q.EndUser, requestID: q.RequestID, action: audit.ActionExportMemories, what: "export"}
	err = call.finish(ctx, h.recorder, nil, func(now time.Time, succeeded bool) any {
		return &events.MemoriesExported{
			Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, Succeeded: succeeded, RequestID: q.RequestID, OccurredAt: now,
		}
	})
	if err != nil {
		return Export{}, err
	}
	return Export{Memories: h.memories(ctx, scope, call)}, nil
}

func (h exportMemoriesHandler) memories(ctx context.Context, scope memory.Scope, call read) iter.Seq2[ExportedMemory, error] {
	return func(yield func(ExportedMemory, error) bool) {
		cursor := ""
		for {
			entries, next, err := h.registry.Page(ctx, scope, memory.Page{Limit: exportPage, Cursor: cursor})
			if err != nil {
				yield(ExportedMemory{}, errs.Unavailable("registry-unavailable", "the memories could not be listed; retry later", err))
				return
			}
			ids := make([]string, len(entries))
			for i, e := range entries {
				ids[i] = e.ID
			}
			records, err := h.bank.GetMany(ctx, scope, ids)
			if err != nil {
				yield(ExportedMemory{}, call.callerError(err))
				return
			}
			for _, rec := range records {
				changes, err := h.bank.History(ctx, scope, rec.ID)
				if errs.KindOf(err) == errs.KindNotFound {
					changes, err = nil, nil // deleted since the page was read
				}
				if err != nil {
					yield(ExportedMemory{}, call.callerError(err))
					return
				}
				if !yield(ExportedMemory{Record: rec, History: changes}, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			cursor = next
		}
	}
}
