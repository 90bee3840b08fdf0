package redis

import (
	"context"
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
