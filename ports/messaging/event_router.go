package messaging

import (
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// newEventRouter consumes the event streams names, in one consumer group per
// group (a stable name: the group's Redis name), with the handler handle
// makes for each. A failure is retried in place, then the message is nacked
// and comes back: an event is never dropped for a transient fault.
func newEventRouter(cfg Config, logger watermill.LoggerAdapter, group string, names []string,
	handle func(name string) message.NoPublishHandlerFunc) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	traceMessages(cfg, router)
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.Retry{
			MaxRetries: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second, Multiplier: 2,
			RandomizationFactor: 0.3, ResetContextOnRetry: true, Logger: logger,
		}.Middleware,
	)
	for _, name := range names {
		handler := group + "." + name
		sub, err := cfg.Subscribe(Subscription{
			ConsumerGroup: cfg.Topics.ConsumerGroup(group),
			Consumer:      consumerName(cfg.Consumer, handler),
			NackSleep:     max(cfg.NackSleep, time.Second),
		})
		if err != nil {
			return nil, err
		}
		router.AddConsumerHandler(handler, cfg.Topics.Event(name), sub, handle(name))
	}
	return router, nil
}
