package redis

import (
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// NewGroupHook is the hook NewSubscriber puts on its client, for tests that
// drive it from a client of their own.
func NewGroupHook(log *slog.Logger) goredis.Hook {
	return newGroupHook(log)
}
