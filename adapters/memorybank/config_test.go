package memorybank

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := Config{BaseURL: "http://mem0:8000", Flavor: FlavorOSS}
	tests := []struct {
		name    string
		tune    func(*Config)
		wantErr string // substring; "" means valid
	}{
		{"oss without key", func(*Config) {}, ""},
		{"platform with key", func(c *Config) { c.Flavor, c.APIKey, c.BaseURL = FlavorPlatform, "k", "https://api.mem0.ai" }, ""},
		{"base URL with a path prefix", func(c *Config) { c.BaseURL = "https://proxy/mem0/" }, ""},
		{"missing URL", func(c *Config) { c.BaseURL = "" }, "CUSTOM_GPT_MEMORY_BANK_URL"},
		{"relative URL", func(c *Config) { c.BaseURL = "mem0:8000" }, "CUSTOM_GPT_MEMORY_BANK_URL"},
		{"other scheme", func(c *Config) { c.BaseURL = "ftp://mem0" }, "CUSTOM_GPT_MEMORY_BANK_URL"},
		{"URL with query", func(c *Config) { c.BaseURL = "http://mem0?x=1" }, "CUSTOM_GPT_MEMORY_BANK_URL"},
		{"missing flavor", func(c *Config) { c.Flavor = "" }, "CUSTOM_GPT_MEMORY_BANK_FLAVOR"},
		{"unknown flavor", func(c *Config) { c.Flavor = "mem0" }, "CUSTOM_GPT_MEMORY_BANK_FLAVOR"},
		{"platform without key", func(c *Config) { c.Flavor = FlavorPlatform }, "CUSTOM_GPT_MEMORY_BANK_API_KEY"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		{"negative open timeout", func(c *Config) { c.Breaker.OpenTimeout = -time.Second }, "open timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.tune(&cfg)
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg := Config{BaseURL: "http://mem0", Flavor: FlavorOSS}
	cfg.setDefaults()
	if cfg.Timeout != 10*time.Second || cfg.Breaker.ConsecutiveFailures != 5 || cfg.Breaker.OpenTimeout != 30*time.Second || cfg.HTTPClient == nil {
		t.Errorf("defaults = %+v", cfg)
	}
}
