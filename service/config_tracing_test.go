package service_test

import (
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestTracingConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"CUSTOM_GPT_TRACING": "true"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		// An operator turns traces off without unsetting a shared endpoint.
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "CUSTOM_GPT_TRACING": "false"}, false},
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_TRACES_EXPORTER": "none"}, false},
		// The metrics may speak gRPC when the traces' own protocol is HTTP.
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, true},
	} {
		cfg, err := service.LoadConfig(func(k string) string { return c.env[k] })
		if err != nil || cfg.Tracing != c.want {
			t.Errorf("%v: tracing %v, %v; want %v", c.env, cfg.Tracing, err, c.want)
		}
	}
	for _, c := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"CUSTOM_GPT_TRACING": "yes"}, "CUSTOM_GPT_TRACING"},
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{map[string]string{"CUSTOM_GPT_TRACING": "true", "OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"},
	} {
		_, err := service.LoadConfig(func(k string) string { return c.env[k] })
		if err == nil || !strings.Contains(err.Error(), c.name+":") {
			t.Errorf("%v: %v, want an error naming %s", c.env, err, c.name)
		}
	}
}
