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

// SearchMemories searches the caller's own memories.
type SearchMemories struct {
	AppID     string
	EndUser   string
	Query     memory.Query
	RequestID string
}

type SearchMemoriesHandler decorator.QueryHandler[SearchMemories, []memory.Hit]

type searchMemoriesHandler struct {
	bank     MemoryBank
	recorder ReadRecorder
}

func NewSearchMemoriesHandler(bank MemoryBank, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) SearchMemoriesHandler {
	return decorator.ApplyQueryDecorators[SearchMemories, []memory.Hit](searchMemoriesHandler{bank: bank, recorder: rec}, log, m)
}

// Handle searches, then audits the call and publishes MemoriesSearched before
// answering: a search whose audit cannot be written is not answered.
func (h searchMemoriesHandler) Handle(ctx context.Context, q SearchMemories) ([]memory.Hit, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return nil, err
	}
	hits, searchErr := h.bank.Search(ctx, scope, q.Query)
	call := read{appID: q.AppID, endUser: q.EndUser, requestID: q.RequestID, action: audit.ActionSearch, what: "search"}
	err = call.finish(ctx, h.recorder, searchErr, func(now time.Time, succeeded bool) any {
		return &events.MemoriesSearched{
			Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, ResultCount: len(hits),
			Succeeded: succeeded, RequestID: q.RequestID, OccurredAt: now,
		}
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}
