package messaging

import (
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// poisonHandlerName is stable: it names the poison stream's consumer group.
const poisonHandlerName = "FailPoisoned"

// poisoned reads what FailOperation needs out of each command that can be parked.
var poisoned = map[string]func(*message.Message) (command.FailOperation, error){
	events.Name(events.CreateMemory{}): func(msg *message.Message) (command.FailOperation, error) {
		var c events.CreateMemory
		err := events.Marshaler.Unmarshal(msg, &c)
		return command.FailOperation{OperationID: c.OperationID, RequestID: c.RequestID}, err
	},
	events.Name(events.UpdateMemory{}): func(msg *message.Message) (command.FailOperation, error) {
		var c events.UpdateMemory
		err := events.Marshaler.Unmarshal(msg, &c)
		return command.FailOperation{OperationID: c.OperationID, RequestID: c.RequestID, MemoryID: c.MemoryID}, err
	},
	events.Name(events.DeleteMemory{}): func(msg *message.Message) (command.FailOperation, error) {
		var c events.DeleteMemory
		err := events.Marshaler.Unmarshal(msg, &c)
		return command.FailOperation{OperationID: c.OperationID, RequestID: c.RequestID, MemoryID: c.MemoryID}, err
	},
	events.Name(events.ForgetMemories{}): func(msg *message.Message) (command.FailOperation, error) {
		var c events.ForgetMemories
		err := events.Marshaler.Unmarshal(msg, &c)
		return command.FailOperation{OperationID: c.OperationID, RequestID: c.RequestID}, err
	},
}

// NewPoisonRouter ends the operation of every command parked on the poison
// stream. It runs on a router of its own so that its failures are retried
// (nacked and redelivered), never sent back to the poison stream.
func NewPoisonRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(middleware.Recoverer)
	sub, err := cfg.Subscribe(Subscription{
		ConsumerGroup: cfg.Topics.ConsumerGroup(poisonHandlerName),
		Consumer:      consumerName(cfg.Consumer, poisonHandlerName),
		NackSleep:     max(cfg.NackSleep, time.Second),
	})
	if err != nil {
		return nil, err
	}
	router.AddConsumerHandler(poisonHandlerName, cfg.Topics.Poison(), sub, func(msg *message.Message) error {
		name := events.Marshaler.NameFromMessage(msg)
		decode, ok := poisoned[name]
		if !ok {
			// Nothing this version can end: nacked, it would come back forever.
			logger.Error("poisoned message of unknown name dropped", nil, watermill.LogFields{"uuid": msg.UUID, "name": name})
			return nil
		}
		c, err := decode(msg)
		if err != nil {
			logger.Error("undecodable poisoned command dropped", err, watermill.LogFields{"uuid": msg.UUID, "name": name})
			return nil
		}
		c.Reason = msg.Metadata.Get(middleware.ReasonForPoisonedKey)
		ctx := events.WithCorrelationID(msg.Context(), middleware.MessageCorrelationID(msg))
		return application.Commands.FailOperation.Handle(ctx, c)
	})
	return router, nil
}
