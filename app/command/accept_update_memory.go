package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptUpdateMemory records a request to replace the content of one of the
// caller's memories and queues the work. The port generates OperationID.
type AcceptUpdateMemory struct {
	OperationID string
	AppID       string
	EndUser     string
	MemoryID    string
	Content     string
	RequestID   string
	// Reply, when the request carries an Idempotency-Key, is its response,
	// stored in the transaction that accepts the operation.
	Reply *idempotency.Completion
}

type AcceptUpdateMemoryHandler decorator.CommandHandler[AcceptUpdateMemory]

type acceptUpdateMemoryHandler struct {
	tx       Transactor
	sender   CommandSender
	registry Registry
}

func NewAcceptUpdateMemoryHandler(tx Transactor, sender CommandSender, registry Registry, log *slog.Logger, m *decorator.Metrics) AcceptUpdateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptUpdateMemory](acceptUpdateMemoryHandler{tx: tx, sender: sender, registry: registry}, log, m)
}

// Handle validates the content by the rules of a new memory and answers a
// memory the caller's scope does not hold with errs.KindNotFound at once; then
// it accepts the operation (see acceptOperation).
func (h acceptUpdateMemoryHandler) Handle(ctx context.Context, c AcceptUpdateMemory) error {
	if err := memory.CheckID(c.MemoryID); err != nil {
		return err
	}
	content, err := memory.NewContent(c.Content)
	if err != nil {
		return err
	}
	if err := mustOwn(ctx, h.registry, c.AppID, c.EndUser, c.MemoryID); err != nil {
		return err
	}
	p := pending{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID,
		reply: c.Reply, kind: operation.KindUpdateMemory, action: audit.ActionUpdateMemory,
	}
	return acceptOperation(ctx, h.tx, h.sender, p, func(now time.Time) any {
		return &events.UpdateMemory{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			MemoryID: c.MemoryID, Content: content, RequestID: c.RequestID, AcceptedAt: now,
		}
	})
}
