package messaging

import (
	"encoding/json"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// purgeForgottenHandler is stable: it names the consumer group that reads the
// forget and delete events to purge what they left behind.
const purgeForgottenHandler = "PurgeForgotten"

// NewForgottenRouter purges, after each successful forget or delete, the
// copies of the forgotten text the service keeps outside the Memory Bank.
// A failure is retried in place, then the event is nacked and comes back.
func NewForgottenRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.Retry{
			MaxRetries: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second, Multiplier: 2,
			RandomizationFactor: 0.3, ResetContextOnRetry: true, Logger: logger,
		}.Middleware,
	)
	for _, name := range []string{events.Name(events.MemoriesForgotten{}), events.Name(events.MemoryDeleted{})} {
		handler := purgeForgottenHandler + "." + name
		sub, err := redis.NewSubscriber(cfg.Redis, redis.SubscriberConfig{
			ConsumerGroup:   cfg.Topics.ConsumerGroup(purgeForgottenHandler),
			Consumer:        consumerName(cfg.Consumer, handler),
			ClaimIdle:       cfg.ClaimIdle,
			NackResendSleep: max(cfg.NackSleep, time.Second),
		}, logger)
		if err != nil {
			return nil, err
		}
		router.AddConsumerHandler(handler, cfg.Topics.Event(name), sub, purgeForgotten(application, name, logger))
	}
	return router, nil
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
