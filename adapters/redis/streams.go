// Package redis connects the service to Redis: Watermill publishers and
// subscribers on Redis streams, and readiness checks.
package redis

import (
	"context"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/stoplog"
)

// NewPublisher publishes to streams. maxLen 0 keeps every entry: commands must
// never be trimmed while unprocessed; event streams may be capped.
func NewPublisher(opts *Options, maxLen int64, logger watermill.LoggerAdapter) (*redisstream.Publisher, error) {
	return redisstream.NewPublisher(redisstream.PublisherConfig{Client: NewClient(opts), DefaultMaxlen: maxLen, Marshaller: Marshaller{}}, logger)
}

// SubscriberConfig tunes a consumer group's delivery.
type SubscriberConfig struct {
	ConsumerGroup string
	Consumer      string
	// ClaimIdle is how long a message may stay unacknowledged before another
	// consumer claims it; it must exceed the slowest handling, retries included.
	ClaimIdle time.Duration
	// NackResendSleep delays redelivery of a nacked message, so a failing
	// message does not loop hot.
	NackResendSleep time.Duration
	// Health learns whether this subscriber's reads succeed, until it is
	// closed; nil tracks nothing.
	Health *ConsumerHealth
	// Log receives the warning when Redis lost the group and the subscriber
	// recreated it; slog.Default() when nil.
	Log *slog.Logger
}

// subscriberBlockTime is how long a subscriber's read waits for an entry.
const subscriberBlockTime = time.Second

// NewSubscriber reads a consumer group. Its client recreates the group when
// Redis has lost it (see groupHook), so a restart, a FLUSHALL or a failover to
// an empty replica does not leave the subscriber reading NOGROUP forever.
func NewSubscriber(opts *Options, cfg SubscriberConfig, logger watermill.LoggerAdapter) (*redisstream.Subscriber, error) {
	claimInterval := cfg.ClaimIdle / 4
	if claimInterval < 100*time.Millisecond {
		claimInterval = 100 * time.Millisecond
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	client := NewClient(opts)
	hook := newGroupHook(cfg.Health, cfg.Log, subscriberBlockTime)
	client.AddHook(hook)
	if cfg.Health != nil {
		client = forgetOnClose{UniversalClient: client, forget: func() { cfg.Health.forget(hook) }}
	}
	return redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client:                        client,
		Unmarshaller:                  Marshaller{},
		ConsumerGroup:                 cfg.ConsumerGroup,
		Consumer:                      cfg.Consumer,
		MaxIdleTime:                   cfg.ClaimIdle,
		ClaimInterval:                 claimInterval,
		NackResendSleep:               cfg.NackResendSleep,
		BlockTime:                     subscriberBlockTime,
		DisableIndefiniteInitialBlock: true,
	}, stoplog.Logger{LoggerAdapter: logger, Stopping: subscriberStopping})
}

// forgetOnClose is a subscriber's client that takes its consumers out of the
// health registry when the subscriber closes it.
type forgetOnClose struct {
	goredis.UniversalClient
	forget func()
}

func (c forgetOnClose) Close() error {
	c.forget()
	return c.UniversalClient.Close()
}

// Ping checks that Redis answers.
func Ping(ctx context.Context, c goredis.UniversalClient) error {
	return c.Ping(ctx).Err()
}
