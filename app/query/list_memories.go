package query

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
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
	registry Registry
	bank     MemoryReader
	recorder ReadRecorder
}

func NewListMemoriesHandler(registry Registry, bank MemoryReader, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) ListMemoriesHandler {
	return decorator.ApplyQueryDecorators[ListMemories, memory.RecordPage](listMemoriesHandler{registry: registry, bank: bank, recorder: rec}, log, m)
}

// Handle pages the registry (any number of memories, newest first, the same
// on every Memory Bank), reads that page's memories from the Memory Bank, then
// audits the call and publishes MemoriesListed before answering. A cursor the
// registry cannot read is errs.KindInvalid.
func (h listMemoriesHandler) Handle(ctx context.Context, q ListMemories) (memory.RecordPage, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return memory.RecordPage{}, err
	}
	page, listErr := h.page(ctx, scope, q.Page)
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

func (h listMemoriesHandler) page(ctx context.Context, scope memory.Scope, p memory.Page) (memory.RecordPage, error) {
	entries, next, err := h.registry.Page(ctx, scope, p)
	if err != nil {
		if errs.KindOf(err) == errs.KindInvalid {
			return memory.RecordPage{}, err
		}
		return memory.RecordPage{}, errs.Unavailable("registry-unavailable", "the memories could not be listed; retry later", err)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	records, err := h.bank.GetMany(ctx, scope, ids)
	if err != nil {
		return memory.RecordPage{}, err
	}
	return memory.RecordPage{Records: records, NextCursor: next}, nil
}
