package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// AcceptForgetMemories records a request to delete every memory of the caller's
// scope and queues the work. The port generates OperationID.
type AcceptForgetMemories struct {
	OperationID string
	AppID       string
	EndUser     string
	RequestID   string
	// Reply, when the request carries an Idempotency-Key, is its response,
	// stored in the transaction that accepts the operation.
	Reply *idempotency.Completion
}

type AcceptForgetMemoriesHandler decorator.CommandHandler[AcceptForgetMemories]

type acceptForgetMemoriesHandler struct {
	tx     Transactor
	sender CommandSender
}

func NewAcceptForgetMemoriesHandler(tx Transactor, sender CommandSender, log *slog.Logger, m *decorator.Metrics) AcceptForgetMemoriesHandler {
	return decorator.ApplyCommandDecorators[AcceptForgetMemories](acceptForgetMemoriesHandler{tx: tx, sender: sender}, log, m)
}

// Handle writes the pending operation and its audit entry and sends the command
// in one transaction (see acceptOperation). The scope is the caller's: nothing in
// the command can widen it.
func (h acceptForgetMemoriesHandler) Handle(ctx context.Context, c AcceptForgetMemories) error {
	p := pending{
		operationID: c.OperationID, appID: c.AppID, endUser: c.EndUser, requestID: c.RequestID,
		reply: c.Reply, kind: operation.KindForgetMemories, action: audit.ActionForgetMemories,
	}
	return acceptOperation(ctx, h.tx, h.sender, p, func(now time.Time) any {
		return &events.ForgetMemories{
			Version: events.Version, OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			RequestID: c.RequestID, AcceptedAt: now,
		}
	})
}
