package netaddr

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		reason string // "" when allowed; else a word the reason must contain
	}{
		// Public addresses pass, in both families and in forms that embed them.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8
		{"100.63.255.255", ""},   // just below CGNAT
		{"100.128.0.0", ""},      // just above CGNAT
		{"172.32.0.1", ""},       // just above 172.16/12
		{"11.0.0.1", ""},

		// IPv4.
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"169.254.1.1", "link-local"},
		{"169.254.169.254", "metadata"},
		{"100.100.100.200", "metadata"},
		{"100.64.0.1", "CGNAT"},
		{"100.127.255.254", "CGNAT"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.1", "documentation"},
		{"198.18.0.1", "benchmarking"},

		// IPv6.
		{"::1", "loopback"},
		{"::", "unspecified"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "unique local"},
		{"fd12:3456::1", "unique local"},
		{"fd00:ec2::254", "metadata"},
		{"ff02::1", "multicast"},
		{"fec0::1", "site-local"},
		{"2001:db8::1", "documentation"},

		// IPv4 addresses written as IPv6.
		{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
		{"::ffff:7f00:1", "IPv4-mapped loopback"},
		{"::ffff:10.0.0.1", "IPv4-mapped private"},
		{"::ffff:169.254.169.254", "metadata"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::10.0.0.1", "IPv4-compatible"},
		{"64:ff9b::7f00:1", "NAT64 of loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 of a cloud metadata"},
		{"64:ff9b::c0a8:101", "NAT64 of private"},
		{"64:ff9b:1::1", "local-use NAT64"},
		{"2002:7f00:1::1", "6to4 of loopback"},
		{"2002:a00:1::", "6to4 of private"},
		{"2002:a9fe:a9fe::1", "6to4 of a cloud metadata"},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo client loopback"}, // client 127.0.0.1
		{"2001:0:a00:1::", "Teredo server private"},
	}
	for _, tt := range tests {
		err := CheckAddress(netip.MustParseAddr(tt.addr))
		if tt.reason == "" {
			if err != nil {
				t.Errorf("%s refused: %v", tt.addr, err)
			}
			continue
		}
		var fe *ForbiddenAddressError
		if !errors.As(err, &fe) {
			t.Errorf("%s allowed, want refused as %s", tt.addr, tt.reason)
			continue
		}
		if !strings.Contains(fe.Reason, tt.reason) {
			t.Errorf("%s refused as %q, want %q", tt.addr, fe.Reason, tt.reason)
		}
	}
	if CheckAddress(netip.Addr{}) == nil {
		t.Error("the zero address is allowed")
	}
}
