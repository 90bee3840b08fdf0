package clientmetadata

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/netaddr"
)

// checkURL refuses, before any network use, a client_id that is not a Client
// Identifier URL (draft-ietf-oauth-client-id-metadata-document, section 3):
// https, a host, a path, no user info, no fragment, no "." or ".." path
// segments. A path of "/" is only NOT RECOMMENDED there; it is refused here,
// since a site's root is hardly a client's own document. A query (SHOULD NOT)
// is allowed. allowPrivate also admits http, for local use and tests.
func checkURL(raw string, allowPrivate bool) error {
	if raw == "" {
		return invalidURL("it is empty")
	}
	// Parse would accept spaces and send them %-encoded: the URL fetched
	// would not be the client_id.
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return invalidURL("it contains spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalidURL("it cannot be parsed")
	}
	switch {
	case u.Scheme == "http" && allowPrivate:
	case u.Scheme != "https":
		return invalidURL("it must use https")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return invalidURL("it must have a host")
	}
	if u.User != nil {
		return invalidURL("it must not carry a user name or password")
	}
	if strings.Contains(raw, "#") { // u.Fragment misses an empty one
		return invalidURL("it must not have a fragment")
	}
	if u.Path == "" || u.Path == "/" {
		return invalidURL(`it must have a path other than "/"`)
	}
	// u.Path is decoded, so %2e%2e is caught too: a server may decode it.
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return invalidURL(`it must not have "." or ".." path segments`)
		}
	}
	// A literal address is refused here already; names are checked on
	// every connection, after they resolve.
	var fe *netaddr.ForbiddenAddressError
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil && !allowPrivate && errors.As(netaddr.CheckAddress(addr), &fe) {
		return forbidden(fe)
	}
	return nil
}
