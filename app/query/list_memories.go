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

// ListMemories reads one page of the caller's own memories, newest first.
type ListMemories struct {
	AppID     string
	EndUser   string
	Page      memory.Page
	RequestID string
}

type ListMemoriesHandler decorator.QueryHandler[ListMemories, memory.RecordPage]

type listMemoriesHandler struct {
	bank     MemoryReader
	recorder ReadRecorder
}

func NewListMemoriesHandler(bank MemoryReader, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) ListMemoriesHandler {
	return decorator.ApplyQueryDecorators[ListMemories, memory.RecordPage](listMemoriesHandler{bank: bank, recorder: rec}, log, m)
}

// Handle lists, then audits the call and publishes MemoriesListed before
// answering. A cursor the Memory Bank cannot read is errs.KindInvalid.
func (h listMemoriesHandler) Handle(ctx context.Context, q ListMemories) (memory.RecordPage, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return memory.RecordPage{}, err
	}
	page, listErr := h.bank.List(ctx, scope, q.Page)
	call := read{appID: q.AppID, endUser: q.EndUser, requestID: q.RequestID, action: audit.ActionListMemories, what: "listing"}
	err = call.finish(ctx, h.recorder, listErr, func(now time.Time, succeeded bool) any {
		return &events.MemoriesListed{
			Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, ResultCount: len(page.Records),
			Succeeded: succeeded, RequestID: q.RequestID, OccurredAt: now,
		}
	})
	if err != nil {
		return memory.RecordPage{}, err
	}
	return page, nil
}
