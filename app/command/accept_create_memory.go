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

// AcceptCreateMemory records a request to store a memory and queues the work.
// The port generates OperationID so it can answer with it.
type AcceptCreateMemory struct {
	OperationID string
	AppID       string
	EndUser     string
	Draft       memory.Draft
	RequestID   string
	// Reply, when the request carries an Idempotency-Key, is its response,
	// stored in the transaction that accepts the operation.
	Reply *idempotency.Completion
}

type AcceptCreateMemoryHandler decorator.CommandHandler[AcceptCreateMemory]

type acceptCreateMemoryHandler struct {
	tx     Transactor
	sender CommandSender
}

func NewAcceptCreateMemoryHandler(tx Transactor, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptCreateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptCreateMemory](acceptCreateMemoryHandler{tx: tx, sender: sender}, log, m)
}

// Handle writes the pending operation and its audit entry and sends the command,
// in one transaction (see acceptOperation).
func (h acceptCreateMemoryHandler) Handle(ctx context.Context, c AcceptCreateMemory) error {
	p := pending{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID,
		reply: c.Reply, kind: operation.KindCreateMemory, action: audit.ActionCreateMemory,
	}
	return acceptOperation(ctx, h.tx, h.sender, p, func(now time.Time) any {
		return &events.CreateMemory{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			Content: c.Draft.Content, Metadata: c.Draft.Metadata, ConversationID: c.Draft.ConversationID,
			RequestID: c.RequestID, AcceptedAt: now,
		}
	})
}
