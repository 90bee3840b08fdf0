package application_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

func TestValidateRedirectURI(t *testing.T) {
	t.Parallel()
	for uri, ok := range map[string]bool{
		"https://chat.openai.com/aip/g-abc/oauth/callback": true,
		"https://chatgpt.com/aip/g-abc/oauth/callback":     true,
		"https://example.com/cb?tenant=1":                  true,
		"http://127.0.0.1:8765/callback":                   true,
		"http://[::1]:8765/callback":                       true,
		"http://localhost/callback":                        true,
		"http://example.com/callback":                      false,
		"https://example.com/cb#frag":                      false,
		"https://user:pw@example.com/cb":                   false,
		"/relative/callback":                               false,
		"javascript:alert(1)":                              false,
		"ftp://example.com/cb":                             false,
		"":                                                 false,
	} {
		err := application.ValidateRedirectURI(uri)
		if (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", uri, err, ok)
		}
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Field != "redirect_uri" || e.Kind != errs.KindInvalid {
				t.Errorf("%q: error %v does not name redirect_uri", uri, err)
			}
		}
	}
}

func TestAddRedirectURIKeepsExactURIsOnce(t *testing.T) {
	t.Parallel()
	a, err := application.New("app-1", "GPT", application.HashAPIKey("k"), t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"https://chatgpt.com/aip/g-1/oauth/callback", "https://chatgpt.com/aip/g-1/oauth/callback/", "https://chatgpt.com/aip/g-1/oauth/callback"} {
		if err := a.AddRedirectURI(uri, t0); err != nil {
			t.Fatal(err)
		}
	}
	// The trailing-slash variant is a different URI: matching is exact.
	if got := a.OAuthClient().RedirectURIs; len(got) != 2 {
		t.Fatalf("redirect URIs %v", got)
	}
	for i := 0; len(a.OAuthClient().RedirectURIs) < application.MaxRedirectURIs; i++ {
		if err := a.AddRedirectURI("https://example.com/cb/"+strings.Repeat("x", i+1), t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddRedirectURI("https://example.com/one-too-many", t0); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("21st redirect URI: %v", err)
	}
}

func TestClientSecret(t *testing.T) {
	t.Parallel()
	s1, h1 := application.NewClientSecret()
	s2, _ := application.NewClientSecret()
	if s1 == s2 || !strings.HasPrefix(s1, application.SecretPrefix) || len(s1) != len(application.SecretPrefix)+43 {
		t.Fatalf("secrets %q %q", s1, s2)
	}
	if string(h1) != string(application.HashClientSecret(s1)) || string(h1) == string(application.HashClientSecret(s2)) {
		t.Fatal("secret hash is not a function of the secret")
	}
}
