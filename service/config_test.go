package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestPublicURL(t *testing.T) {
	t.Parallel()
	for value, ok := range map[string]bool{
		"https://memory.example.com":     true,
		"https://memory.example.com/":    true, // the trailing slash is dropped
		"http://127.0.0.1:8080":          true,
		"http://[::1]:8080":              true,
		"http://localhost:8080":          true,
		"http://memory.example.com":      false,
		"https://memory.example.com/api": false,
		"https://memory.example.com?x=1": false,
		"ftp://memory.example.com":       false,
		"memory.example.com":             false,
	} {
		cfg, err := service.LoadConfig(func(k string) string {
			if k == "CUSTOM_GPT_PUBLIC_URL" {
				return value
			}
			return ""
		})
		if (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", value, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "CUSTOM_GPT_PUBLIC_URL:") {
			t.Errorf("%q: error %v does not name the variable", value, err)
		}
		if ok && strings.HasSuffix(cfg.PublicURL, "/") {
			t.Errorf("%q kept its trailing slash: %q", value, cfg.PublicURL)
		}
	}
	cfg, err := service.LoadConfig(func(k string) string {
		if k == "CUSTOM_GPT_HTTP_ADDR" {
			return "127.0.0.1:9999"
		}
		return ""
	})
	if err != nil || cfg.PublicURL != "http://127.0.0.1:9999" {
		t.Fatalf("default public URL %q (%v)", cfg.PublicURL, err)
	}
	// A container listening on every interface still starts with a usable default.
	cfg, err = service.LoadConfig(func(k string) string {
		if k == "CUSTOM_GPT_HTTP_ADDR" {
			return "0.0.0.0:8080"
		}
		return ""
	})
	if err != nil || cfg.PublicURL != "http://localhost:8080" {
		t.Fatalf("default public URL on 0.0.0.0: %q (%v)", cfg.PublicURL, err)
	}
}

func TestCredentialCacheTTL(t *testing.T) {
	t.Parallel()
	checkCacheTTL(t, "CUSTOM_GPT_CREDENTIAL_CACHE_TTL", func(c service.Config) time.Duration { return c.CredentialCacheTTL })
}

func TestWebhookCacheTTL(t *testing.T) {
	t.Parallel()
	checkCacheTTL(t, "CUSTOM_GPT_WEBHOOK_CACHE_TTL", func(c service.Config) time.Duration { return c.Webhooks.CacheTTL })
}

// checkCacheTTL holds a cache's bound to its contract: 1s unless set, 0
// (off) to 10s, anything else refused with the variable's name.
func checkCacheTTL(t *testing.T, name string, got func(service.Config) time.Duration) {
	t.Helper()
	only := func(v string) func(string) string {
		return func(k string) string {
			if k == name {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]time.Duration{"": time.Second, "0": 0, "0s": 0, "250ms": 250 * time.Millisecond, "10s": 10 * time.Second} {
		c, err := service.LoadConfig(only(v))
		if err != nil || got(c) != want {
			t.Errorf("%s=%q: %v %v, want %v", name, v, got(c), err, want)
		}
	}
	for _, bad := range []string{"-1s", "11s", "soon", "5"} {
		_, err := service.LoadConfig(only(bad))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming the variable", name, bad, err)
		}
	}
}
