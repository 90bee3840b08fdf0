package service_test

import (
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestLoadConfig_oauthGuards(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (service.Config, error) {
		return service.LoadConfig(func(k string) string { return env[k] })
	}
	c, err := load(nil)
	if err != nil || c.OAuthGuards.AuthorizeRatePerMinute != 30 {
		t.Fatalf("defaults: %v %+v", err, c.OAuthGuards)
	}
	c, err = load(map[string]string{"CUSTOM_GPT_AUTHORIZE_RATE": "120"})
	if err != nil || c.OAuthGuards.AuthorizeRatePerMinute != 120 {
		t.Fatalf("explicit: %v %+v", err, c.OAuthGuards)
	}
	for _, bad := range []string{"0", "-1", "many", "100001"} {
		if _, err := load(map[string]string{"CUSTOM_GPT_AUTHORIZE_RATE": bad}); err == nil ||
			!strings.Contains(err.Error(), "CUSTOM_GPT_AUTHORIZE_RATE") {
			t.Errorf("rate %q: error %v", bad, err)
		}
	}
}
