package service_test

import (
	"slices"
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
	if err != nil || c.OAuthGuards.AuthorizeRatePerMinute != 30 || c.OAuthGuards.CORSOrigins != nil {
		t.Fatalf("defaults: %v %+v", err, c.OAuthGuards)
	}
	c, err = load(map[string]string{"CUSTOM_GPT_AUTHORIZE_RATE": "120",
		"CUSTOM_GPT_OAUTH_CORS_ORIGINS": " https://App.Example.com, http://localhost:3000 ,"})
	if err != nil || c.OAuthGuards.AuthorizeRatePerMinute != 120 ||
		!slices.Equal(c.OAuthGuards.CORSOrigins, []string{"https://app.example.com", "http://localhost:3000"}) {
		t.Fatalf("explicit: %v %+v", err, c.OAuthGuards)
	}
	for _, bad := range []string{"*", "https://*.example.com", "null", "app.example.com", "ftp://app.example.com",
		"https://app.example.com/", "https://app.example.com/path", "https://app.example.com?x=1", "https://user@app.example.com"} {
		if _, err := load(map[string]string{"CUSTOM_GPT_OAUTH_CORS_ORIGINS": "https://ok.example.com," + bad}); err == nil ||
			!strings.Contains(err.Error(), "CUSTOM_GPT_OAUTH_CORS_ORIGINS") {
			t.Errorf("origin %q: error %v, want one naming CUSTOM_GPT_OAUTH_CORS_ORIGINS", bad, err)
		}
	}
	for _, bad := range []string{"0", "-1", "many", "100001"} {
		if _, err := load(map[string]string{"CUSTOM_GPT_AUTHORIZE_RATE": bad}); err == nil ||
			!strings.Contains(err.Error(), "CUSTOM_GPT_AUTHORIZE_RATE") {
			t.Errorf("rate %q: error %v", bad, err)
		}
	}
}
