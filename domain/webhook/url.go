package webhook

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

const maxURLLength = 2048

// URLPolicy checks an endpoint URL when it is registered. It catches what can
// be seen in the URL itself; the sender checks every address it actually
// connects to, which also covers host names that resolve to forbidden
// addresses (or change what they resolve to).
type URLPolicy struct {
	// AllowPrivate lets webhooks reach private and loopback addresses and
	// plain http, for local development and tests.
	AllowPrivate bool
}

// Validate accepts an absolute http(s) URL without user info or fragment;
// https, a public host name or address unless AllowPrivate.
func (p URLPolicy) Validate(raw string) error {
	bad := func(why string) error {
		return errs.Invalid("url", "webhook-url-invalid", "webhook URL "+strconv.Quote(raw)+" "+why)
	}
	if raw == "" {
		return errs.Invalid("url", "webhook-url-invalid", "a webhook URL is required")
	}
	if len(raw) > maxURLLength {
		return bad("is longer than 2048 characters")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("contains spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("cannot be parsed")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("must be an absolute http or https URL")
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("must be an absolute http or https URL with a host")
	}
	if u.User != nil {
		return bad("must not carry a user name or password")
	}
	if strings.Contains(raw, "#") {
		return bad("must not have a fragment")
	}
	if u.Scheme != "https" && !p.AllowPrivate {
		return bad("must use https")
	}
	host := u.Hostname()
	if host == "" {
		return bad("has no host")
	}
	if port := u.Port(); strings.HasSuffix(u.Host, ":") || (port != "" && !validPort(port)) {
		return bad("has an invalid port")
	}
	if p.AllowPrivate {
		return nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if err := netaddr.CheckAddress(addr); err != nil {
			return bad("points at a forbidden address: " + err.Error())
		}
		return nil
	}
	if strings.Contains(host, ":") || strings.Contains(host, "%") {
		return bad("has an invalid IP address")
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return bad("points at localhost")
	}
	// A host whose last label is numeric is read as an IPv4 address in some
	// forms (2130706433, 0x7f.1, 127.1) by some resolvers: refuse it rather
	// than guess which address it means.
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; last == "" || isNumericLabel(last) {
		return bad("is not a valid host name or canonical IP address")
	}
	return nil
}

func isNumericLabel(s string) bool {
	t := strings.TrimPrefix(s, "0x")
	if t == "" {
		return true
	}
	hex := s != t
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
		case hex && (r >= 'a' && r <= 'f'):
		default:
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return n >= 1 && n <= 65535
}
