package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
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
}

type AcceptCreateMemoryHandler decorator.CommandHandler[AcceptCreateMemory]

type acceptCreateMemoryHandler struct {
	tx     Transactor
	sender CommandSender
}

func NewAcceptCreateMemoryHandler(tx Transactor, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptCreateMemoryHandler {
	return decorator.ApplyCommandDecorators[AcceptCreateMemory](acceptCreateMemoryHandler{tx: tx, sender: sender}, log, m)
}

// Handle writes the pending operation and its audit entry, and sends the command
// before the transaction commits: if the send fails nothing is written, and if
// the commit fails the worker finds no operation and drops the orphan command.
// Either way the caller gets an error, never a 202 without durability.
func (h acceptCreateMemoryHandler) Handle(ctx context.Context, c AcceptCreateMemory) error {
	now := time.Now().UTC()
	op, err := operation.New(c.OperationID, c.AppID, c.EndUser, operation.KindCreateMemory, now)
	if err != nil {
		return err
	}
	err = h.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertOperation(ctx, op); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, audit.Entry{
			AppID: c.AppID, EndUser: c.EndUser, Action: audit.ActionCreateMemory, Status: audit.StatusPending,
			RequestID: c.RequestID, OperationID: c.OperationID, OccurredAt: now,
		}); err != nil {
			return err
		}
		return h.sender.Send(ctx, &events.CreateMemory{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			Content: c.Draft.Content, Metadata: c.Draft.Metadata, ConversationID: c.Draft.ConversationID,
			RequestID: c.RequestID, AcceptedAt: now,
		})
	})
	if err != nil {
		return errs.Unavailable("not-accepted", "the request could not be stored durably; retry later", fmt.Errorf("accept create memory: %w", err))
	}
	return nil
}
