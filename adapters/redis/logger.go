package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

var setLoggerOnce sync.Once

// UseLogger sends go-redis's own messages (failed dials, pool warnings) to log at
// debug level instead of the standard logger: the caller already reports the
// errors that matter. go-redis keeps one logger per process, so the first call wins.
func UseLogger(log *slog.Logger) {
	setLoggerOnce.Do(func() { goredis.SetLogger(slogPrinter{log}) })
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// subscriberStopping tells what a stream subscriber logs when it stops. On
// Close, watermill-redisstream cancels its reads and closes its client without
// waiting for its claim loop, which may be inside a call then: the call fails
// with a cancelled context or a closed client, and the library logs that as an
// error. Only a stop does either; a Redis that fails a call for any other
// reason is still an error.
func subscriberStopping(_ string, err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, goredis.ErrClosed)
}
