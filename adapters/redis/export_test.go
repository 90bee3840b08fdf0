package redis

import (
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/stoplog"
)

// NewGroupHook is the hook NewSubscriber puts on its client, for tests that
// drive it from a client of their own.
func NewGroupHook(health *ConsumerHealth, log *slog.Logger, block time.Duration) goredis.Hook {
	return newGroupHook(health, log, block)
}

// SubscriberLogger is the logger NewSubscriber gives watermill-redisstream.
func SubscriberLogger(l watermill.LoggerAdapter) watermill.LoggerAdapter {
	return stoplog.Logger{LoggerAdapter: l, Stopping: subscriberStopping}
}

// NewLeasesAt is NewLeases with its clock and its leases' life set, so a
// test can let a lease outlive its life without waiting for it.
func NewLeasesAt(lim *Limiter, life time.Duration, now func() time.Time) *Leases {
	l := NewLeases(lim)
	l.life, l.now = life, now
	return l
}
