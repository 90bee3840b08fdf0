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

// GetMemory reads one of the caller's own memories.
type GetMemory struct {
	AppID     string
	EndUser   string
	MemoryID  string
	RequestID string
}

type GetMemoryHandler decorator.QueryHandler[GetMemory, memory.Record]

type getMemoryHandler struct {
	registry Registry
	bank     MemoryReader
	recorder ReadRecorder
}

func NewGetMemoryHandler(registry Registry, bank MemoryReader, rec ReadRecorder, log *slog.Logger, m *decorator.Metrics) GetMemoryHandler {
	return decorator.ApplyQueryDecorators[GetMemory, memory.Record](getMemoryHandler{registry: registry, bank: bank, recorder: rec}, log, m)
}

// Handle reads, then audits the call and publishes MemoryRead before answering.
// Another scope's memory is errs.KindNotFound, exactly as a missing one, so ids
// cannot be probed across applications or end users.
func (h getMemoryHandler) Handle(ctx context.Context, q GetMemory) (memory.Record, error) {
	scope, err := memory.NewScope(q.AppID, q.EndUser)
	if err != nil {
		return memory.Record{}, err
	}
	id, getErr := checkOwned(ctx, h.registry, scope, q.MemoryID)
	var record memory.Record
	if getErr == nil {
		record, getErr = h.bank.Get(ctx, scope, id)
	}
	call := read{appID: q.AppID, endUser: q.EndUser, requestID: q.RequestID, action: audit.ActionGetMemory, what: "read"}
	err = call.finish(ctx, h.recorder, getErr, func(now time.Time, succeeded bool) any {
		return &events.MemoryRead{
			Version: events.Version, AppID: q.AppID, EndUser: q.EndUser, MemoryID: id,
			Succeeded: succeeded, RequestID: q.RequestID, OccurredAt: now,
		}
	})
	if err != nil {
		return memory.Record{}, err
	}
	return record, nil
}
