// Package outbound builds the one HTTP client the service uses to reach URLs
// that someone else chose (webhook endpoints, client metadata documents):
// it connects to public addresses only, never follows redirects and ignores
// proxy settings from the environment.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

// Config tunes the client.
type Config struct {
	Timeout      time.Duration // per request, connection included; default 10s
	AllowPrivate bool          // reach loopback and private addresses (local use, tests)
}

// NewClient returns a client that checks every address it dials.
func NewClient(cfg Config) *http.Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = refuseForbidden
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is the answer, not a pointer to follow
		},
	}
}

// refuseForbidden runs after name resolution, on the very address about to be
// connected to, so a name that resolves (or re-resolves) to a private address
// is refused as surely as a literal one.
func refuseForbidden(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound dial %s %q: %w", network, address, err)
	}
	if err := netaddr.CheckAddress(ap.Addr()); err != nil {
		return fmt.Errorf("refused to connect: %w", err)
	}
	return nil
}

// Refused reports whether err is the client's refusal to connect to a
// forbidden address, and which address and why.
func Refused(err error) (*netaddr.ForbiddenAddressError, bool) {
	var fe *netaddr.ForbiddenAddressError
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}
