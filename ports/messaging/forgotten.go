package messaging

import (
	"encoding/json"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// purgeForgottenHandler is stable: it names the consumer group that reads the
// forget and delete events to purge what they left behind.
const purgeForgottenHandler = "PurgeForgotten"

// NewForgottenRouter purges, after each successful forget or delete, the
// copies of the forgotten text the service keeps outside the Memory Bank.
func NewForgottenRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	return newEventRouter(cfg, logger, purgeForgottenHandler, forgottenEvents(), func(name string) message.NoPublishHandlerFunc {
		return purgeForgotten(application, name, logger)
	})
}

func purgeForgotten(a app.Application, name string, logger watermill.LoggerAdapter) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		var ev struct {
			AppID    string `json:"app_id"`
			EndUser  string `json:"end_user"`
			MemoryID string `json:"memory_id"`
		}
		if err := json.Unmarshal(msg.Payload, &ev); err != nil || ev.AppID == "" {
			logger.Error("undecodable event dropped by the purge", err, watermill.LogFields{"uuid": msg.UUID, "name": name})
			return nil
		}
		ctx := events.WithCorrelationID(msg.Context(), middleware.MessageCorrelationID(msg))
		return a.Commands.PurgeForgotten.Handle(ctx, command.PurgeForgotten{AppID: ev.AppID, EndUser: ev.EndUser, MemoryID: ev.MemoryID})
	}
}
