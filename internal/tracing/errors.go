package tracing

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"golang.org/x/time/rate"
)

// WarnHandler reports the SDK's own failures (an exporter that cannot reach
// its collector, mostly) as a warning at most once a minute: traces are lost
// meanwhile, but nothing the service does is, so no one must act at once,
// and a collector that is down must not flood the log with a line per batch.
func WarnHandler(log *slog.Logger) otel.ErrorHandler {
	h := &warnHandler{log: log, every: rate.Sometimes{First: 1, Interval: time.Minute}}
	return otel.ErrorHandlerFunc(h.handle)
}

type warnHandler struct {
	log   *slog.Logger
	every rate.Sometimes
}

func (h *warnHandler) handle(err error) {
	h.every.Do(func() {
		h.log.Warn("tracing failed; traces may be lost (said at most once a minute)", "error", err)
	})
}
