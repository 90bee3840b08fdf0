package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
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
}

type AcceptUpdateMemoryHandler decorator.CommandHandler[AcceptUpdateMemory]

type acceptUpdateMemoryHandler struct {
	tx     Transactor
	sender CommandSender
}

func NewAcceptUpdateMemoryHandler(tx Transactor, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptUpdateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptUpdateMemory](acceptUpdateMemoryHandler{tx: tx, sender: sender}, log, m)
}

// Handle validates the content by the rules of a new memory, then writes the
// pending operation and its audit entry and sends the command in one transaction.
// Whether the memory exists, and is the caller's, only the worker finds out: the
// operation then fails with "memory-not-found".
func (h acceptUpdateMemoryHandler) Handle(ctx context.Context, c AcceptUpdateMemory) error {
	if err := memory.CheckID(c.MemoryID); err != nil {
		return err
	}
	content, err := memory.NewContent(c.Content)
	if err != nil {
		return err
	}
	p := pending{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID,
		kind: operation.KindUpdateMemory, action: audit.ActionUpdateMemory,
	}
	return acceptOperation(ctx, h.tx, h.sender, p, func(now time.Time) any {
		return &events.UpdateMemory{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			MemoryID: c.MemoryID, Content: content, RequestID: c.RequestID, AcceptedAt: now,
		}
	})
}
