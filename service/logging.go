package service

import (
	"log/slog"

	"go.opentelemetry.io/otel"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// UseLogger sends the messages of libraries that keep one logger per process
// (zitadel/oidc through slog's default, go-redis, OpenTelemetry's error
// handler) to log. It belongs to the process's entry point, called once
// where its logger is made: New leaves process-wide state alone, so services
// built side by side (tests) do not race over it.
func UseLogger(log *slog.Logger) {
	slog.SetDefault(log) // zitadel/oidc logs only through slog's default
	redis.UseLogger(log)
	// An unreachable collector is a warning a minute, not an error a batch.
	otel.SetErrorHandler(tracing.WarnHandler(log))
}
