package messaging

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// errUndecodable marks a command payload that cannot be read into its type:
// no retry can change it.
var errUndecodable = errors.New("command cannot be decoded")

// strictMarshaler is events.Marshaler whose decoding failures say so, so that the
// router can end the command's operation instead of retrying and parking it.
type strictMarshaler struct{ cqrs.CommandEventMarshaler }

func (m strictMarshaler) Unmarshal(msg *message.Message, v any) error {
	if err := m.CommandEventMarshaler.Unmarshal(msg, v); err != nil {
		return fmt.Errorf("%w: %w", errUndecodable, err)
	}
	return nil
}

// failUndecodable fails the operation of a command that cannot be decoded,
// with the reason, and acknowledges it: left alone it would be retried,
// parked, and found unreadable again, its operation pending forever. The
// operation id is read from whatever of the payload is readable; a payload
// without one is dropped, as nothing can be failed for it.
func failUndecodable(a app.Application, logger watermill.LoggerAdapter) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if !errors.Is(err, errUndecodable) {
				return out, err
			}
			var ids struct {
				OperationID string `json:"operation_id"`
				RequestID   string `json:"request_id"`
				MemoryID    string `json:"memory_id"`
			}
			_ = json.Unmarshal(msg.Payload, &ids) // what can be read of it
			fields := watermill.LogFields{"uuid": msg.UUID, "name": events.Marshaler.NameFromMessage(msg), "operation_id": ids.OperationID}
			if ids.OperationID == "" {
				logger.Error("undecodable command without an operation dropped", err, fields)
				return nil, nil
			}
			ctx := events.WithCorrelationID(msg.Context(), middleware.MessageCorrelationID(msg))
			if ferr := a.Commands.FailOperation.Handle(ctx, command.FailOperation{
				OperationID: ids.OperationID, RequestID: ids.RequestID, MemoryID: ids.MemoryID,
				Reason: err.Error(), Undecodable: true,
			}); ferr != nil {
				return nil, ferr
			}
			logger.Info("undecodable command: its operation failed", fields)
			return nil, nil
		}
	}
}
