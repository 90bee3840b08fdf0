package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	cfg, err := service.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := service.Webhooks{AllowPrivate: false, Timeout: 10 * time.Second, PollInterval: time.Second, Concurrency: 4, CacheTTL: time.Second}
	if cfg.Webhooks != want {
		t.Errorf("defaults %+v, want %+v", cfg.Webhooks, want)
	}
	for name, value := range map[string]string{
		"CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE": "yes please",
		"CUSTOM_GPT_WEBHOOK_TIMEOUT":       "2m",
		"CUSTOM_GPT_WEBHOOK_POLL_INTERVAL": "-1s",
		"CUSTOM_GPT_WEBHOOK_CONCURRENCY":   "0",
	} {
		_, err := service.LoadConfig(func(k string) string {
			if k == name {
				return value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s=%q: %v, want an error naming the variable", name, value, err)
		}
	}
}
