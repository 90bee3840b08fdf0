package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestLoadConfig_protection(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (service.Config, error) {
		return service.LoadConfig(func(k string) string { return env[k] })
	}
	c, err := load(nil)
	if err != nil || c.Protection != (service.Protection{Rate: 0, Burst: 1, DeadLetterRetention: 14 * 24 * time.Hour, ResendAfter: 2 * time.Minute}) {
		t.Fatalf("defaults: %v %+v", err, c.Protection)
	}
	c, err = load(map[string]string{"CUSTOM_GPT_MEMORY_BANK_RATE": "20"})
	if err != nil || c.Protection.Rate != 20 || c.Protection.Burst != 20 {
		t.Fatalf("burst defaults to the rate: %v %+v", err, c.Protection)
	}
	c, err = load(map[string]string{"CUSTOM_GPT_MEMORY_BANK_RATE": "20", "CUSTOM_GPT_MEMORY_BANK_BURST": "5",
		"CUSTOM_GPT_DEAD_LETTER_RETENTION": "72h", "CUSTOM_GPT_RESEND_AFTER": "30s"})
	if err != nil || c.Protection != (service.Protection{Rate: 20, Burst: 5, DeadLetterRetention: 72 * time.Hour, ResendAfter: 30 * time.Second}) {
		t.Fatalf("explicit: %v %+v", err, c.Protection)
	}
	for name, env := range map[string]map[string]string{
		"CUSTOM_GPT_MEMORY_BANK_RATE":      {"CUSTOM_GPT_MEMORY_BANK_RATE": "-1"},
		"CUSTOM_GPT_MEMORY_BANK_BURST":     {"CUSTOM_GPT_MEMORY_BANK_BURST": "3"}, // a burst without a rate
		"CUSTOM_GPT_DEAD_LETTER_RETENTION": {"CUSTOM_GPT_DEAD_LETTER_RETENTION": "forever"},
		"CUSTOM_GPT_RESEND_AFTER":          {"CUSTOM_GPT_RESEND_AFTER": "0s"},
	} {
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", env, err, name)
		}
	}
	if _, err := load(map[string]string{"CUSTOM_GPT_MEMORY_BANK_RATE": "5", "CUSTOM_GPT_MEMORY_BANK_BURST": "0"}); err == nil ||
		!strings.Contains(err.Error(), "CUSTOM_GPT_MEMORY_BANK_BURST") {
		t.Errorf("a zero burst: %v", err)
	}
}
