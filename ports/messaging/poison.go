package messaging

import (
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// poisonHandlerName is stable: it names the poison stream's consumer group.
const poisonHandlerName = "FailPoisoned"

// NewPoisonRouter ends the operation of every command parked on the poison
// stream. It runs on a router of its own so that its failures are retried
// (nacked and redelivered), never sent back to the poison stream.
func NewPoisonRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(middleware.Recoverer)
	sub, err := redis.NewSubscriber(cfg.Redis, redis.SubscriberConfig{
		ConsumerGroup:   cfg.Topics.ConsumerGroup(poisonHandlerName),
		Consumer:        consumerName(cfg.Consumer, poisonHandlerName),
		ClaimIdle:       cfg.ClaimIdle,
		NackResendSleep: max(cfg.NackSleep, time.Second),
	}, logger)
	if err != nil {
		return nil, err
	}
	router.AddConsumerHandler(poisonHandlerName, cfg.Topics.Poison(), sub, func(msg *message.Message) error {
		if Marshaler.NameFromMessage(msg) != events.Name(events.CreateMemory{}) {
			return nil // nothing else is parked there yet
		}
		var c events.CreateMemory
		if err := Marshaler.Unmarshal(msg, &c); err != nil {
			logger.Error("undecodable poisoned command dropped", err, watermill.LogFields{"uuid": msg.UUID})
			return nil
		}
		ctx := events.WithCorrelationID(msg.Context(), middleware.MessageCorrelationID(msg))
		return application.Commands.FailCreateMemory.Handle(ctx, command.FailCreateMemory{
			OperationID: c.OperationID, RequestID: c.RequestID, Reason: msg.Metadata.Get(middleware.ReasonForPoisonedKey),
		})
	})
	return router, nil
}
