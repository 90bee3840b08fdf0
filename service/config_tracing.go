package service

import (
	"fmt"
	"strings"
)

// envTracing turns traces on or off whatever the OTEL_* variables say.
const envTracing = "CUSTOM_GPT_TRACING"

// loadTracing tells whether the process sends traces. They are off unless
// CUSTOM_GPT_TRACING=true or an OTLP endpoint is set; an explicit
// CUSTOM_GPT_TRACING=false, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none
// turns them off even then. Everything else about them (the endpoint, its
// headers, the sampler, the service name) is the standard OTEL_* variables,
// which the OpenTelemetry SDK reads itself.
func loadTracing(p *parser) bool {
	endpoint := p.str("OTEL_EXPORTER_OTLP_ENDPOINT", "") != "" || p.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") != ""
	on := p.boolean(envTracing, endpoint)
	if strings.EqualFold(p.str("OTEL_SDK_DISABLED", ""), "true") {
		return false
	}
	exporter := p.str("OTEL_TRACES_EXPORTER", "otlp")
	if exporter == "none" || !on {
		return false
	}
	if exporter != "otlp" {
		p.fail("OTEL_TRACES_EXPORTER", fmt.Sprintf("must be otlp or none, got %q", exporter))
	}
	// The traces' own protocol, else the one every signal shares.
	name := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if p.str(name, "") == "" {
		name = "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	if v := p.str(name, "http/protobuf"); v != "http/protobuf" {
		p.fail(name, fmt.Sprintf("must be http/protobuf, the OTLP exporter built in, got %q", v))
	}
	return true
}
