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

// AcceptDeleteMemory records a request to delete one of the caller's memories
// and queues the work. The port generates OperationID.
type AcceptDeleteMemory struct {
	OperationID string
	AppID       string
	EndUser     string
	MemoryID    string
	RequestID   string
	// Reply, when the request carries an Idempotency-Key, is its response,
	// stored in the transaction that accepts the operation.
	Reply *idempotency.Completion
}

type AcceptDeleteMemoryHandler decorator.CommandHandler[AcceptDeleteMemory]

type acceptDeleteMemoryHandler struct {
	tx       Transactor
	sender   CommandSender
	registry Registry
}

func NewAcceptDeleteMemoryHandler(tx Transactor, sender CommandSender, registry Registry, log *slog.Logger, m *decorator.Metrics) AcceptDeleteMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptDeleteMemory](acceptDeleteMemoryHandler{tx: tx, sender: sender, registry: registry}, log, m)
}

// Handle answers a memory the caller's scope does not hold with
// errs.KindNotFound at once; otherwise it accepts the operation (see
// acceptOperation).
func (h acceptDeleteMemoryHandler) Handle(ctx context.Context, c AcceptDeleteMemory) error {
	if err := memory.CheckID(c.MemoryID); err != nil {
		return err
	}
	if err := mustOwn(ctx, h.registry, c.AppID, c.EndUser, c.MemoryID); err != nil {
		return err
	}
	p := pending{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID,
		reply: c.Reply, kind: operation.KindDeleteMemory, action: audit.ActionDeleteMemory,
	}
	return acceptOperation(ctx, h.tx, h.sender, p, func(now time.Time) any {
		return &events.DeleteMemory{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			MemoryID: c.MemoryID, RequestID: c.RequestID, AcceptedAt: now,
		}
	})
}
