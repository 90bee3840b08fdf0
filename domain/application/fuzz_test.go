package application_test

import (
	"bytes"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// FuzzAPIKey checks the credential filter and hashes: only cgpt_ plus 43
// characters looks like a key, hashes are 32 bytes and tell keys apart, and an
// API key's hash is never a client secret's of another string.
func FuzzAPIKey(f *testing.F) {
	key, _ := application.NewAPIKey()
	secret, _ := application.NewClientSecret()
	for _, s := range []string{
		key, secret, "", "cgpt_", application.KeyPrefix + strings.Repeat("A", 42), application.KeyPrefix + strings.Repeat("A", 44),
		"CGPT_" + strings.Repeat("A", 43), application.KeyPrefix + strings.Repeat("é", 21) + "A", key + "\x00", " " + key,
	} {
		f.Add(s, key)
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		looks := application.LooksLikeAPIKey(s)
		if looks != (strings.HasPrefix(s, application.KeyPrefix) && len(s) == len(application.KeyPrefix)+43) {
			t.Fatalf("LooksLikeAPIKey(%q) = %v", s, looks)
		}
		h := application.HashAPIKey(s)
		if len(h) != 32 || !bytes.Equal(h, application.HashAPIKey(s)) || !bytes.Equal(application.HashClientSecret(s), h) {
			t.Fatalf("HashAPIKey(%q) = %x: not a stable SHA-256", s, h)
		}
		if s != other && bytes.Equal(h, application.HashAPIKey(other)) {
			t.Fatalf("%q and %q hash alike", s, other)
		}
	})
}

// FuzzValidateRedirectURI checks that an accepted redirect URI is absolute,
// has a host, no fragment and no user info, and is https or http on loopback;
// and that a refusal is invalid input on redirect_uri.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://chat.openai.com/aip/g-123/oauth/callback", "http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]/cb",
		"http://example.com/cb", "https://x/#frag", "https://x/#", "https://user:pw@x/", "https://", "https:///path", "//x/cb",
		"javascript:alert(1)", "HTTPS://X/CB", "https://x/\x00", "https://x:99999/", "https://ex ample.com/", "http://127.0.0.1.nip.io/",
		"http://localhost.evil.com/", "http://0x7f.1/", "", strings.Repeat("https://x/", 1000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		err := application.ValidateRedirectURI(uri)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "redirect_uri" {
				t.Fatalf("ValidateRedirectURI(%q) = %v, want invalid input on redirect_uri", uri, err)
			}
			return
		}
		u, perr := url.Parse(uri)
		if perr != nil || !u.IsAbs() || u.Host == "" || u.User != nil || strings.Contains(uri, "#") {
			t.Fatalf("ValidateRedirectURI accepted %q (%v)", uri, perr)
		}
		switch u.Scheme {
		case "https":
		case "http":
			ip := net.ParseIP(u.Hostname())
			if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("ValidateRedirectURI accepted %q: http off loopback", uri)
			}
		default:
			t.Fatalf("ValidateRedirectURI accepted %q: scheme %q", uri, u.Scheme)
		}
	})
}
