package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
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
	recorder SearchRecorder
}

func NewSearchMemoriesHandler(bank MemoryBank, rec SearchRecorder, log *slog.Logger, m *decorator.Metrics) SearchMemoriesHandler {
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
	now := time.Now().UTC()
	entry := audit.Entry{
		AppID: q.AppID, EndUser: q.EndUser, Action: audit.ActionSearch, Status: audit.StatusSucceeded,
		RequestID: q.RequestID, OccurredAt: now, CompletedAt: now,
	}
	if searchErr != nil {
		entry.Status = audit.StatusFailed
		entry.Detail = searchErr.Error()
	}
	ev := &events.MemoriesSearched{
		Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, ResultCount: len(hits),
		Succeeded: searchErr == nil, RequestID: q.RequestID, OccurredAt: now,
	}
	// The audit must be written even when the caller gave up waiting.
	if err := h.recorder.RecordSearch(context.WithoutCancel(ctx), entry, ev); err != nil {
		return nil, errs.Unavailable("audit-unavailable", "the search could not be audited; retry later", fmt.Errorf("record search: %w", err))
	}
	if searchErr != nil {
		return nil, bankUnavailable(searchErr)
	}
	return hits, nil
}

func bankUnavailable(err error) error {
	var be *memory.BankError
	if errors.As(err, &be) && !be.Transient {
		return errs.Unavailable("memory-bank-rejected", "the Memory Bank refused the search: "+be.Reason, err)
	}
	return errs.Unavailable("memory-bank-unavailable", "the Memory Bank is unavailable; retry later", err)
}
