package service

import (
	"context"
	"fmt"
	"runtime/debug"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// serviceName names the service in traces unless OTEL_SERVICE_NAME (or
// service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const serviceName = "custom-gpt-adapter"

// WithTracerProvider sends the service's spans to tp, whatever the
// configuration says; the caller shuts tp down. Component tests record
// spans in memory with it.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp }
}

// openTracing is the tracer provider of the process, and what flushes it at
// the end (nil when there is nothing to flush): tp when given, else the
// OpenTelemetry SDK exporting over OTLP/HTTP when cfg.Tracing, else the
// no-op provider, with which no instrumentation is installed at all.
//
// The SDK reads the standard variables itself: the exporter its
// OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout), the provider
// OTEL_TRACES_SAMPLER and OTEL_BSP_*, the resource OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. Spans are exported in batches, off the hot path;
// failures reach otel's error handler (see UseLogger).
func openTracing(ctx context.Context, cfg Config, tp trace.TracerProvider) (trace.TracerProvider, func(context.Context) error, error) {
	if tp != nil {
		return tp, nil, nil
	}
	if !cfg.Tracing {
		return noop.NewTracerProvider(), nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", serviceName), attribute.String("service.version", buildVersion())),
		resource.WithFromEnv(), // after the defaults, which it overrides
	)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return sdk, sdk.Shutdown, nil
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}
