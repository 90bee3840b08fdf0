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

// NewPoisonRouter ends the operation of every command parked on the poison
// stream. It runs on a router of its own so that its failures are retried
// (nacked and redelivered), never sent back to the poison stream.
func NewPoisonRouter(cfg Config, application app.Application, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	traceMessages(cfg, router)
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
		c, ok, err := failureOfPoisoned(msg, name)
		if !ok {
			// Nothing this version can end: nacked, it would come back forever.
			logger.Error("poisoned message of unknown name dropped", nil, watermill.LogFields{"uuid": msg.UUID, "name": name})
			return nil
		}
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

// failureOfPoisoned reads what FailOperation needs out of a parked command
// named name; ok is false when no kind has a command of that name.
func failureOfPoisoned(msg *message.Message, name string) (c command.FailOperation, ok bool, err error) {
	cmd, ok := events.NewCommand(name)
	if !ok {
		return c, false, nil
	}
	err = events.Marshaler.Unmarshal(msg, cmd)
	h := cmd.CommandHeader()
	return command.FailOperation{OperationID: h.OperationID, RequestID: h.RequestID, MemoryID: events.MemoryOf(cmd)}, true, err
}
