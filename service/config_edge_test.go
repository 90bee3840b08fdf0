package service_test

import (
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestLoadConfig_edge(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (service.Config, error) {
		return service.LoadConfig(func(k string) string { return env[k] })
	}
	c, err := load(nil)
	if err != nil || len(c.Edge.TrustedProxies) != 0 || c.Edge.ForwardedHeader != "X-Forwarded-For" || c.Edge.AdminAddr != "" {
		t.Fatalf("defaults: %v %+v", err, c.Edge)
	}
	c, err = load(map[string]string{
		"CUSTOM_GPT_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32", "CUSTOM_GPT_FORWARDED_HEADER": "forwarded",
		"CUSTOM_GPT_ADMIN_ADDR": "127.0.0.1:9090",
	})
	if err != nil || len(c.Edge.TrustedProxies) != 3 || c.Edge.ForwardedHeader != "Forwarded" || c.Edge.AdminAddr != "127.0.0.1:9090" {
		t.Fatalf("explicit: %v %+v", err, c.Edge)
	}
	if got := c.Edge.TrustedProxies[1].String(); got != "192.0.2.7/32" {
		t.Errorf("a single address is the range %s, want 192.0.2.7/32", got)
	}
	for name, env := range map[string]map[string]string{
		"CUSTOM_GPT_TRUSTED_PROXIES":  {"CUSTOM_GPT_TRUSTED_PROXIES": "10.0.0.0/33"},
		"CUSTOM_GPT_FORWARDED_HEADER": {"CUSTOM_GPT_FORWARDED_HEADER": "X-Real-IP"},
		"CUSTOM_GPT_ADMIN_ADDR":       {"CUSTOM_GPT_ADMIN_ADDR": "9090"},
	} {
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", env, err, name)
		}
	}
	if _, err := load(map[string]string{"CUSTOM_GPT_ADMIN_ADDR": "127.0.0.1:8080"}); err == nil || !strings.Contains(err.Error(), "CUSTOM_GPT_ADMIN_ADDR") {
		t.Errorf("the admin listener on the API's address: %v", err)
	}
}
