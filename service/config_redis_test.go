package service_test

import (
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestRedisTopologyConfig(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	cfg, err := service.LoadConfig(env(nil))
	if err != nil || cfg.RedisMode != redis.ModeSingle {
		t.Fatalf("default mode %q, %v; want single", cfg.RedisMode, err)
	}
	cfg, err = service.LoadConfig(env(map[string]string{
		"CUSTOM_GPT_REDIS_MODE": "cluster",
		"CUSTOM_GPT_REDIS_URL":  "redis://10.0.0.1:6379?addr=10.0.0.2:6379&addr=10.0.0.3:6379",
	}))
	if err != nil || cfg.RedisMode != redis.ModeCluster {
		t.Fatalf("cluster: mode %q, %v", cfg.RedisMode, err)
	}
	for _, tc := range []struct{ mode, url, variable string }{
		{"replicated", "redis://127.0.0.1:6379", "CUSTOM_GPT_REDIS_MODE"},
		{"sentinel", "redis://127.0.0.1:26379", "CUSTOM_GPT_REDIS_URL"}, // no master_name
		{"single", "http://127.0.0.1:6379", "CUSTOM_GPT_REDIS_URL"},
		{"cluster", "redis://127.0.0.1:6379?bogus=1", "CUSTOM_GPT_REDIS_URL"},
	} {
		_, err := service.LoadConfig(env(map[string]string{"CUSTOM_GPT_REDIS_MODE": tc.mode, "CUSTOM_GPT_REDIS_URL": tc.url}))
		if err == nil || !strings.Contains(err.Error(), tc.variable+":") {
			t.Errorf("mode %s, url %s: %v; want an error naming %s", tc.mode, tc.url, err, tc.variable)
		}
	}
}
