package service

import (
	"net"
	"net/textproto"
	"strings"

	"github.com/realclientip/realclientip-go"
)

// Variables of the service's edge: what stands in front of it, and where the
// admin surface listens.
const (
	envTrustedProxies  = "CUSTOM_GPT_TRUSTED_PROXIES"
	envForwardedHeader = "CUSTOM_GPT_FORWARDED_HEADER"
	envAdminAddr       = "CUSTOM_GPT_ADMIN_ADDR"
)

// Edge is how requests reach the service.
type Edge struct {
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges) whose
	// ForwardedHeader gives the client's address; empty: none, every client
	// is the address it connects from.
	TrustedProxies  []net.IPNet
	ForwardedHeader string // X-Forwarded-For or Forwarded
	// AdminAddr, when set, is the only listener of /admin/v1 and /metrics.
	AdminAddr string
}

func loadEdge(p *parser) Edge {
	e := Edge{
		ForwardedHeader: textproto.CanonicalMIMEHeaderKey(p.str(envForwardedHeader, "X-Forwarded-For")),
		AdminAddr:       p.str(envAdminAddr, ""),
	}
	if raw := p.str(envTrustedProxies, ""); raw != "" {
		var items []string
		for _, item := range strings.Split(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		ranges, err := realclientip.AddressesAndRangesToIPNets(items...)
		if err != nil {
			p.fail(envTrustedProxies, "must be a comma-separated list of IP addresses and CIDR ranges: "+err.Error())
		}
		e.TrustedProxies = ranges
	}
	if e.ForwardedHeader != "X-Forwarded-For" && e.ForwardedHeader != "Forwarded" {
		p.fail(envForwardedHeader, "must be X-Forwarded-For or Forwarded: the one header your proxy sets")
	}
	if _, port, err := net.SplitHostPort(e.AdminAddr); e.AdminAddr != "" && (err != nil || port == "") {
		p.fail(envAdminAddr, "must be host:port, e.g. 127.0.0.1:9090, or empty")
	}
	return e
}
