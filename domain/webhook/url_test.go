package webhook

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

func TestURLPolicy(t *testing.T) {
	t.Parallel()
	public := URLPolicy{}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/custom-gpt", true},
		{"https://hooks.example.com:8443/a?b=c", true},
		{"https://93.184.216.34/hook", true},
		{"https://[2606:4700:4700::1111]/hook", true},
		{"http://hooks.example.com/", false}, // https required
		{"ftp://hooks.example.com/", false},
		{"hooks.example.com/path", false},
		{"/relative", false},
		{"https:///nohost", false},
		{"https://user:pw@hooks.example.com/", false},
		{"https://user@hooks.example.com/", false},
		{"https://hooks.example.com/#frag", false},
		{"https://hooks.example.com/#", false},
		{"https://hooks.example.com:0/", false},
		{"https://hooks.example.com:99999/", false},
		{"https://hooks.example.com:/", false},
		{"https://hooks .example.com/", false},
		{"", false},
		{"https://127.0.0.1/", false},
		{"https://[::1]/", false},
		{"https://[::ffff:127.0.0.1]/", false},
		{"https://[::ffff:a9fe:a9fe]/", false},
		{"https://169.254.169.254/latest/meta-data", false},
		{"https://[fd00:ec2::254]/", false},
		{"https://100.100.100.200/", false},
		{"https://10.0.0.1/", false},
		{"https://[fe80::1%25eth0]/", false},
		{"https://localhost/", false},
		{"https://LOCALHOST./", false},
		{"https://api.localhost/", false},
		{"https://2130706433/", false}, // 127.0.0.1 as one number
		{"https://0x7f.1/", false},
		{"https://127.1/", false},
		{"https://0177.0.0.1/", false},
	}
	for _, tt := range tests {
		err := public.Validate(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil {
			var e *errs.Error
			if errs.KindOf(err) != errs.KindInvalid || !asErr(err, &e) || e.Field != "url" {
				t.Errorf("Validate(%q) = %v, want an invalid url error", tt.url, err)
			} else if tt.url != "" && !strings.Contains(e.Detail, tt.url) {
				t.Errorf("Validate(%q) error %q does not name the URL", tt.url, e.Detail)
			}
		}
	}

	private := URLPolicy{AllowPrivate: true}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://localhost:1/", "http://[::1]:9/"} {
		if err := private.Validate(u); err != nil {
			t.Errorf("with private addresses allowed, Validate(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"http://u:p@127.0.0.1/", "http://127.0.0.1/#x", "gopher://127.0.0.1/"} {
		if err := private.Validate(u); err == nil {
			t.Errorf("with private addresses allowed, Validate(%q) accepted it", u)
		}
	}
}

func asErr(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	*target = e
	return ok
}

// FuzzWebhookURL: whatever the input, validation does not panic, and a URL
// it accepts is https, without user info or fragment, and never names a
// forbidden address literally.
func FuzzWebhookURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/x", "https://127.0.0.1/", "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::7f00:1]/",
		"https://[2002:a00:1::]/", "https://u@h/", "http://h/", "https://h/#f", "https://[fe80::1%25en0]/",
		"https://0x7f.1/", "https://%31%32%37.0.0.1/", "https://[::127.0.0.1]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if err := (URLPolicy{}).Validate(raw); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q that does not parse: %v", raw, err)
		}
		if u.Scheme != "https" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || u.Host == "" {
			t.Fatalf("accepted %q: scheme %q, user %v, fragment %q", raw, u.Scheme, u.User, u.Fragment)
		}
		if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
			if netaddr.CheckAddress(addr) != nil {
				t.Fatalf("accepted %q whose host %s is a forbidden address", raw, addr)
			}
		}
	})
}
