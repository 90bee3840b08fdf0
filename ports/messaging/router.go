// Package messaging is the worker's port: Watermill routers that turn commands
// from Redis streams into calls of the application's handlers.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Config tunes the worker.
type Config struct {
	Topics events.Topics
	// Subscribe opens the subscriber of every stream the routers read.
	Subscribe   SubscriberFactory
	Consumer    string // unique per process, e.g. host-pid
	Concurrency int    // parallel consumers of each command stream
	NackSleep   time.Duration
	// HardStop ends when work in progress must stop: Grace after the worker
	// was asked to stop (CUSTOM_GPT_SHUTDOWN_GRACE). Until then a handler that
	// is running finishes; nil stops it with the routers.
	HardStop context.Context
	Grace    time.Duration
	// HoldBack is the longest a command is held before its redelivery when the
	// Memory Bank could not take its call (an open breaker says for how long),
	// so an outage does not spin the worker; 0 redelivers after NackSleep only.
	// Keep it below ClaimIdle, or another consumer claims the held command.
	HoldBack time.Duration
	Retry    RetryConfig
	// Registerer receives the worker's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Tracer makes each message's handling a consumer span, the child of the
	// span that sent it; nil or the no-op provider: none.
	Tracer trace.TracerProvider
}

// traceMessages makes the router's work on each message a consumer span, when
// tracing is on. Added first, it wraps every other middleware: retries and
// the hold-back of a "not yet" are part of the message's handling.
func traceMessages(cfg Config, router *message.Router) {
	if tracing.On(cfg.Tracer) {
		router.AddMiddleware(tracing.Consume(cfg.Tracer))
	}
}

// RetryConfig bounds in-process retries before a command goes to the poison stream.
type RetryConfig struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
}

// NewCommandRouter builds the router that runs command handlers. Each command is
// retried with exponential backoff and jitter; one that still fails is moved to
// the poison stream, where NewPoisonRouter ends its operation.
func NewCommandRouter(cfg Config, application app.Application, poison message.Publisher, logger watermill.LoggerAdapter) (*message.Router, error) {
	metrics, err := newOperationMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: closeTimeout(cfg)}, logger)
	if err != nil {
		return nil, err
	}
	// A "not yet" (another worker holds the lease, the operation is not visible
	// yet) is neither retried in place nor poisoned: the message is nacked and
	// the stream redelivers it after NackSleep, until the lease ends.
	poisonMW, err := middleware.PoisonQueueWithFilter(poison, cfg.Topics.Poison(), func(err error) bool {
		return !redeliverLater(err)
	})
	if err != nil {
		return nil, err
	}
	traceMessages(cfg, router)
	// Order matters: the poison queue wraps the retry, so only a command that
	// exhausted its retries is parked; a command that cannot be read is failed
	// inside the retry, which never sees it.
	router.AddMiddleware(
		nackQuietly,
		middleware.Recoverer,
		finishInFlight(cfg.HardStop),
		holdBack(cfg.HoldBack),
		poisonMW,
		middleware.Retry{
			MaxRetries:          cfg.Retry.MaxRetries,
			InitialInterval:     cfg.Retry.InitialInterval,
			MaxInterval:         cfg.Retry.MaxInterval,
			Multiplier:          2,
			RandomizationFactor: 0.3,
			ResetContextOnRetry: true,
			ShouldRetry:         func(p middleware.RetryParams) bool { return !redeliverLater(p.Err) },
			Logger:              logger,
		}.Middleware,
		failUndecodable(application, logger),
	)

	processor, err := cqrs.NewCommandProcessorWithConfig(router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return cfg.Topics.Command(p.CommandName), nil
		},
		SubscriberConstructor: func(p cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			// The group is named after the command, not the handler instance, so
			// every instance of every replica shares one group.
			return cfg.Subscribe(Subscription{
				ConsumerGroup: cfg.Topics.ConsumerGroup(events.Name(p.Handler.NewCommand())),
				Consumer:      consumerName(cfg.Consumer, p.HandlerName),
				NackSleep:     cfg.NackSleep,
				Commands:      true,
			})
		},
		Marshaler: strictMarshaler{events.Marshaler},
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	// Concurrency consumers on each command stream, all in the stream's one group.
	concurrency := max(cfg.Concurrency, 1)
	for i := 1; i <= concurrency; i++ {
		if err := processor.AddHandlers(commandHandlers(application.Commands, strconv.Itoa(i), metrics)...); err != nil {
			return nil, err
		}
	}
	return router, nil
}

// redeliverLater tells which errors must not spend retries or park a command:
// a "not yet" from the use case, and a handler cut short by shutdown, whose
// message another worker will claim.
func redeliverLater(err error) bool {
	return command.IsRetryLater(err) || errors.Is(err, context.Canceled)
}

// holdBack delays the nack of a command whose Memory Bank call was held back
// (command.RetryAfter), for the time the error tells, at most limit. The
// subscriber redelivers a nacked message to the same consumer, so commands
// behind it wait too and keep their order.
func holdBack(limit time.Duration) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if d := min(command.RetryAfter(err), limit); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-msg.Context().Done():
					t.Stop()
				}
			}
			return out, err
		}
	}
}

// withCorrelation carries the message's correlation id into the context, so the
// events a handler publishes stay correlated with the request that caused them.
func withCorrelation(ctx context.Context) context.Context {
	if msg := cqrs.OriginalMessageFromCtx(ctx); msg != nil {
		if id := middleware.MessageCorrelationID(msg); id != "" {
			return events.WithCorrelationID(ctx, id)
		}
	}
	return ctx
}

func consumerName(base, handler string) string { return fmt.Sprintf("%s/%s", base, handler) }

// closeTimeout is how long a closing router waits for its running handlers:
// the grace they have, and a moment to acknowledge.
func closeTimeout(cfg Config) time.Duration {
	if cfg.HardStop == nil {
		return 30 * time.Second
	}
	return cfg.Grace + 5*time.Second
}

// nackQuietly nacks a command whose handler said "not yet" without returning
// the error to the router, which logs every error it gets at ERROR: a command
// waiting for its lease, the breaker or the database needs nobody's action.
func nackQuietly(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err != nil && redeliverLater(err) {
			msg.Nack() // the router's Ack after a nil error is then a no-op
			return nil, nil
		}
		return out, err
	}
}

// finishInFlight lets a handler that is running when the worker is asked to
// stop finish its work, until hardStop ends: the message's own context ends
// with its subscriber, which would cut a Memory Bank call in the middle.
func finishInFlight(hardStop context.Context) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		if hardStop == nil {
			return h
		}
		return func(msg *message.Message) ([]*message.Message, error) {
			ctx, cancel := context.WithCancel(context.WithoutCancel(msg.Context()))
			defer cancel()
			stop := context.AfterFunc(hardStop, cancel)
			defer stop()
			msg.SetContext(ctx)
			return h(msg)
		}
	}
}
