package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// GetOperation reads one of the caller's own operations.
type GetOperation struct {
	OperationID string
	AppID       string
	EndUser     string
}

type GetOperationHandler decorator.QueryHandler[GetOperation, *operation.Operation]

type getOperationHandler struct{ ops operation.Repository }

func NewGetOperationHandler(ops operation.Repository, log *slog.Logger, m *decorator.Metrics) GetOperationHandler {
	return decorator.ApplyQueryDecorators[GetOperation, *operation.Operation](getOperationHandler{ops: ops}, log, m)
}

// Handle answers NotFound for someone else's operation, exactly as for a missing
// one, so ids cannot be probed across applications.
func (h getOperationHandler) Handle(ctx context.Context, q GetOperation) (*operation.Operation, error) {
	op, err := h.ops.Get(ctx, q.OperationID)
	if err != nil {
		return nil, err
	}
	if !op.VisibleTo(q.AppID, q.EndUser) {
		return nil, errs.NotFound("operation-not-found", "no such operation")
	}
	return op, nil
}
