package service_test

import (
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func TestLoadConfig_upstreamOIDC(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER":        "https://login.example.com/realms/staff",
		"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID":     "memory",
		"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": "s3cret",
	}
	with := func(changes map[string]string) func(string) string {
		env := map[string]string{}
		for k, v := range full {
			env[k] = v
		}
		for k, v := range changes {
			env[k] = v
		}
		return func(k string) string { return env[k] }
	}

	t.Run("none is off", func(t *testing.T) {
		t.Parallel()
		c, err := service.LoadConfig(func(string) string { return "" })
		if err != nil || c.UpstreamOIDC.Enabled() || c.UpstreamOIDC != (service.UpstreamOIDC{}) {
			t.Fatalf("%v %+v", err, c.UpstreamOIDC)
		}
	})
	t.Run("all three, name from the issuer host", func(t *testing.T) {
		t.Parallel()
		c, err := service.LoadConfig(with(nil))
		want := service.UpstreamOIDC{Issuer: "https://login.example.com/realms/staff", ClientID: "memory", ClientSecret: "s3cret", Name: "login.example.com"}
		if err != nil || c.UpstreamOIDC != want || !c.UpstreamOIDC.Enabled() {
			t.Fatalf("%v %+v", err, c.UpstreamOIDC)
		}
	})
	t.Run("named, and a loopback issuer over http", func(t *testing.T) {
		t.Parallel()
		for _, issuer := range []string{"http://127.0.0.1:9000", "http://[::1]:9000/", "http://localhost:9000/idp"} {
			c, err := service.LoadConfig(with(map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": issuer,
				"CUSTOM_GPT_UPSTREAM_OIDC_NAME": "Acme SSO"}))
			if err != nil || c.UpstreamOIDC.Issuer != issuer || c.UpstreamOIDC.Name != "Acme SSO" {
				t.Fatalf("%s: %v %+v", issuer, err, c.UpstreamOIDC)
			}
		}
	})

	refused := []struct {
		name    string
		changes map[string]string
		naming  []string // variables the error must name
		notName []string
	}{
		{"no secret", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": ""},
			[]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET:"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID:", "CUSTOM_GPT_UPSTREAM_OIDC_ISSUER:"}},
		{"no client id", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID": "  "},
			[]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID:"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET:"}},
		{"issuer only", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID": "", "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": ""},
			[]string{"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID:", "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET:"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER:"}},
		{"no issuer", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": ""}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER:"}, nil},
		{"http issuer", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": "http://login.example.com"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER: must use https"}, nil},
		{"not a URL", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": "login.example.com"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER:"}, nil},
		{"query", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": "https://login.example.com/?tenant=1"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER:"}, nil},
		{"long name", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_NAME": strings.Repeat("n", 65)}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_NAME:"}, nil},
		{"name alone", map[string]string{"CUSTOM_GPT_UPSTREAM_OIDC_ISSUER": "", "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID": "",
			"CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET": "", "CUSTOM_GPT_UPSTREAM_OIDC_NAME": "Acme"}, []string{"CUSTOM_GPT_UPSTREAM_OIDC_NAME:"}, nil},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := service.LoadConfig(with(tt.changes))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tt.naming {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			for _, unwanted := range tt.notName {
				if strings.Contains(err.Error(), unwanted) {
					t.Errorf("error %q blames %q, which is set", err, unwanted)
				}
			}
		})
	}
}
