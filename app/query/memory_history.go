package query

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// MemoryHistory reads the changes of one of the caller's own memories, oldest first.
type MemoryHistory struct {
	AppID     string
	EndUser   string
	MemoryID  string
	RequestID string
}

type MemoryHistoryHandler decorator.QueryHandler[MemoryHistory, []memory.Change]

type memoryHistoryHandler struct {
	registry Registry
	bank     MemoryReader
	recorder ReadRecorder
}

func NewMemoryHistoryHandler(registry Registry, bank MemoryReader, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) MemoryHistoryHandler {
	return decorator.ApplyQueryDecorators[MemoryHistory, []memory.Change](memoryHistoryHandler{registry: registry, bank: bank, recorder: rec}, log, m)
}

// Handle reads the history, then audits the call and publishes MemoryHistoryRead
// before answering. Another scope's memory is errs.KindNotFound, as a missing one.
func (h memoryHistoryHandler) Handle(ctx context.Context, q MemoryHistory) ([]memory.Change, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return nil, err
	}
	id, historyErr := checkOwned(ctx, h.registry, scope, q.MemoryID)
	var changes []memory.Change
	if historyErr == nil {
		changes, historyErr = h.bank.History(ctx, scope, id)
	}
	call := read{appID: q.AppID, endUser: q.EndUser, requestID: q.RequestID, action: audit.ActionMemoryHistory, what: "history"}
	err = call.finish(ctx, h.recorder, historyErr, func(now time.Time, succeeded bool) any {
		return &events.MemoryHistoryRead{
			Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, MemoryID: id,
			ChangeCount: len(changes), Succeeded: succeeded, RequestID: q.RequestID, OccurredAt: now,
		}
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}
