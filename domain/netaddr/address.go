// Package netaddr decides which network addresses the service may connect to
// on behalf of someone else (webhooks, client metadata documents): public
// ones only.
package netaddr

import (
	"fmt"
	"net/netip"
)

// ForbiddenAddressError says why an address may not be connected to.
type ForbiddenAddressError struct {
	Addr   netip.Addr
	Reason string
}

func (e *ForbiddenAddressError) Error() string {
	return fmt.Sprintf("address %s is %s: only public addresses may be reached", e.Addr, e.Reason)
}

type forbiddenPrefix struct {
	prefix netip.Prefix
	reason string
}

func prefixes(list ...[2]string) []forbiddenPrefix {
	out := make([]forbiddenPrefix, len(list))
	for i, p := range list {
		out[i] = forbiddenPrefix{netip.MustParsePrefix(p[0]), p[1]}
	}
	return out
}

// Cloud metadata services come first so the error names them, not merely
// "link-local" or "private".
var (
	forbiddenV4 = prefixes(
		[2]string{"169.254.169.254/32", "a cloud metadata address"},
		[2]string{"100.100.100.200/32", "a cloud metadata address"},
		[2]string{"0.0.0.0/8", "unspecified (this network)"},
		[2]string{"10.0.0.0/8", "private (RFC 1918)"},
		[2]string{"100.64.0.0/10", "shared address space (CGNAT)"},
		[2]string{"127.0.0.0/8", "loopback"},
		[2]string{"169.254.0.0/16", "link-local"},
		[2]string{"172.16.0.0/12", "private (RFC 1918)"},
		[2]string{"192.0.0.0/24", "reserved for IETF protocol assignments"},
		[2]string{"192.0.2.0/24", "reserved for documentation"},
		[2]string{"192.88.99.0/24", "6to4 relay anycast"},
		[2]string{"192.168.0.0/16", "private (RFC 1918)"},
		[2]string{"198.18.0.0/15", "reserved for benchmarking"},
		[2]string{"198.51.100.0/24", "reserved for documentation"},
		[2]string{"203.0.113.0/24", "reserved for documentation"},
		[2]string{"224.0.0.0/4", "multicast"},
		[2]string{"240.0.0.0/4", "reserved"}, // includes 255.255.255.255
	)
	forbiddenV6 = prefixes(
		[2]string{"fd00:ec2::254/128", "a cloud metadata address"},
		[2]string{"::/128", "unspecified"},
		[2]string{"::1/128", "loopback"},
		[2]string{"::/96", "IPv4-compatible (deprecated)"},
		[2]string{"64:ff9b:1::/48", "local-use NAT64"},
		[2]string{"100::/64", "discard-only"},
		[2]string{"2001:db8::/32", "reserved for documentation"},
		[2]string{"fc00::/7", "unique local (private)"},
		[2]string{"fe80::/10", "link-local"},
		[2]string{"fec0::/10", "site-local (deprecated)"},
		[2]string{"ff00::/8", "multicast"},
	)
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
)

// CheckAddress refuses every address an outbound request must not reach:
// loopback, private, link-local, multicast, unspecified, CGNAT, reserved and
// cloud metadata addresses, including IPv4 ones written in IPv6 forms
// (IPv4-mapped, NAT64, 6to4, Teredo), which would otherwise route to the same
// hosts.
func CheckAddress(a netip.Addr) error {
	if !a.IsValid() {
		return &ForbiddenAddressError{Addr: a, Reason: "invalid"}
	}
	a = a.WithZone("")
	if a.Is4In6() {
		return checkV4(a.Unmap(), a, "IPv4-mapped ")
	}
	if a.Is4() {
		return checkV4(a, a, "")
	}
	for _, p := range forbiddenV6 {
		if p.prefix.Contains(a) {
			return &ForbiddenAddressError{Addr: a, Reason: p.reason}
		}
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return checkV4(netip.AddrFrom4([4]byte(b[12:16])), a, "NAT64 of ")
	case sixToFour.Contains(a):
		return checkV4(netip.AddrFrom4([4]byte(b[2:6])), a, "6to4 of ")
	case teredo.Contains(a):
		if err := checkV4(netip.AddrFrom4([4]byte(b[4:8])), a, "Teredo server "); err != nil {
			return err
		}
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]} // stored inverted
		return checkV4(netip.AddrFrom4(client), a, "Teredo client ")
	}
	return nil
}

func checkV4(v4, orig netip.Addr, form string) error {
	for _, p := range forbiddenV4 {
		if p.prefix.Contains(v4) {
			return &ForbiddenAddressError{Addr: orig, Reason: form + p.reason}
		}
	}
	return nil
}
