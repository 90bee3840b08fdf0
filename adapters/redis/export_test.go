package redis

import (
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// NewGroupHook is the hook NewSubscriber puts on its client, for tests that
// drive it from a client of their own.
func NewGroupHook(health *ConsumerHealth, log *slog.Logger, block time.Duration) goredis.Hook {
	return newGroupHook(health, log, block)
}
