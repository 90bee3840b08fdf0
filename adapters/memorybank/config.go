package memorybank

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Flavor selects which mem0 API the Memory Bank speaks.
type Flavor string

const (
	// FlavorOSS is mem0's open-source REST server: no /v1 prefix, optional X-API-Key.
	FlavorOSS Flavor = "mem0-oss"
	// FlavorPlatform is mem0's hosted API: /v1 routes with trailing slashes, Token auth.
	FlavorPlatform Flavor = "mem0-platform"
)

const (
	defaultTimeout             = 10 * time.Second
	defaultConsecutiveFailures = 5
	defaultOpenTimeout         = 30 * time.Second
)

// BreakerConfig tunes the circuit breaker in front of the Memory Bank.
type BreakerConfig struct {
	// ConsecutiveFailures is how many transient failures in a row open the breaker; default 5.
	ConsecutiveFailures uint32
	// OpenTimeout is how long the breaker stays open before letting one probe through; default 30s.
	OpenTimeout time.Duration
}

// Config configures a Client. The CUSTOM_GPT_* variables are read in wiring,
// not here; the one environment the package consults is the standard proxy
// variables (HTTPS_PROXY, NO_PROXY), through the default HTTPClient.
type Config struct {
	// BaseURL is the server root, without /v1 for the platform flavor (e.g. https://api.mem0.ai).
	BaseURL string
	Flavor  Flavor
	// APIKey is sent as "X-API-Key" (oss, when set) or "Authorization: Token" (platform, required).
	APIKey string
	// Timeout bounds each call, including reading the answer; default 10s.
	Timeout time.Duration
	// HTTPClient replaces the tuned default client; its Timeout and redirect policy are kept as given.
	HTTPClient *http.Client
	// Infer lets mem0 rewrite the content into facts; false stores the content verbatim as one memory.
	Infer   bool
	Breaker BreakerConfig
	// Registerer receives the custom_gpt_memory_bank_* metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Tracer makes each call made inside a trace a client span, whose
	// traceparent goes to the Memory Bank; nil: none.
	Tracer trace.TracerProvider
}

// Validate reports the first setting that cannot work, naming its environment variable.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("CUSTOM_GPT_MEMORY_BANK_URL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("CUSTOM_GPT_MEMORY_BANK_URL must be an absolute http(s) URL, got %q", c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("CUSTOM_GPT_MEMORY_BANK_URL must not carry a query or fragment, got %q", c.BaseURL)
	}
	switch c.Flavor {
	case FlavorOSS:
	case FlavorPlatform:
		if c.APIKey == "" {
			return errors.New("CUSTOM_GPT_MEMORY_BANK_API_KEY is required for the mem0-platform flavor")
		}
	case "":
		return fmt.Errorf("CUSTOM_GPT_MEMORY_BANK_FLAVOR is required: %q or %q", FlavorOSS, FlavorPlatform)
	default:
		return fmt.Errorf("CUSTOM_GPT_MEMORY_BANK_FLAVOR must be %q or %q, got %q", FlavorOSS, FlavorPlatform, c.Flavor)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("memory bank timeout must not be negative, got %s", c.Timeout)
	}
	if c.Breaker.OpenTimeout < 0 {
		return fmt.Errorf("memory bank breaker open timeout must not be negative, got %s", c.Breaker.OpenTimeout)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.Breaker.ConsecutiveFailures == 0 {
		c.Breaker.ConsecutiveFailures = defaultConsecutiveFailures
	}
	if c.Breaker.OpenTimeout == 0 {
		c.Breaker.OpenTimeout = defaultOpenTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = newHTTPClient()
	}
	c.HTTPClient = tracing.Client(c.HTTPClient, c.Tracer, "memory-bank")
}
