package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CreateMemory stores one accepted memory in the Memory Bank and finishes its operation.
type CreateMemory struct {
	OperationID    string
	AppID          string
	EndUser        string
	Content        string
	Metadata       map[string]any
	ConversationID string
	RequestID      string
	AcceptedAt     time.Time
}

type CreateMemoryHandler decorator.CommandHandler[CreateMemory]

type createMemoryHandler struct {
	runner runner
	bank   MemoryBank
}

func NewCreateMemoryHandler(tx Transactor, bank MemoryBank, cfg WorkerConfig, log *slog.Logger, m *decorator.Metrics) CreateMemoryHandler {
	return decorator.ApplyCommandDecorators[CreateMemory](createMemoryHandler{runner: newRunner(tx, cfg), bank: bank}, log, m)
}

// Handle is idempotent on the operation id (see runner.run). A retry after an
// attempt that may have stored the memory looks for it, by the operation id tag,
// before adding.
func (h createMemoryHandler) Handle(ctx context.Context, c CreateMemory) error {
	j := job{operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID, acceptedAt: c.AcceptedAt}
	return h.runner.run(ctx, j, func(ctx context.Context, scope memory.Scope, attempt int) (succeed, error) {
		ids, err := h.store(ctx, scope, c, attempt)
		if err != nil {
			return nil, err
		}
		return func(op *operation.Operation, now time.Time) (any, error) {
			if err := op.Succeed(ids, now); err != nil {
				return nil, err
			}
			return &events.MemoryCreated{
				Version: events.Version, OperationID: op.ID(), AppID: op.AppID(), EndUser: op.EndUser(),
				MemoryIDs: ids, RequestID: c.RequestID, OccurredAt: now,
			}, nil
		}, nil
	})
}

func (h createMemoryHandler) store(ctx context.Context, scope memory.Scope, c CreateMemory, attempt int) ([]string, error) {
	if attempt > 1 {
		ids, err := h.bank.FindByOperation(ctx, scope, c.OperationID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return ids, nil // an earlier attempt stored it but did not commit
		}
	}
	draft := memory.Draft{Content: c.Content, Metadata: c.Metadata, ConversationID: c.ConversationID}
	return h.bank.Add(ctx, scope, draft, c.OperationID)
}
