package http

import (
	"net"
	"net/http"

	"github.com/realclientip/realclientip-go"
)

// Proxies are the reverse proxies in front of the service whose forwarding
// header may be believed (CUSTOM_GPT_TRUSTED_PROXIES), and the one header
// they set (CUSTOM_GPT_FORWARDED_HEADER): the other is the client's to forge.
type Proxies struct {
	Ranges []net.IPNet
	Header string // "X-Forwarded-For" or "Forwarded"
}

// clientAddress rewrites RemoteAddr to the client's address when the request
// comes from a trusted proxy: the rightmost address of the forwarding header
// that is not itself a trusted proxy. Every per-address limit and record
// reads RemoteAddr, so behind a proxy each client keeps its own budget instead
// of sharing the proxy's. A request from anywhere else keeps its own address,
// whatever headers it sends.
// The configuration checked the header's name, so the strategy cannot fail.
func clientAddress(p Proxies) func(http.Handler) http.Handler {
	if len(p.Ranges) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	fromHeader := realclientip.Must(realclientip.NewRightmostTrustedRangeStrategy(p.Header, p.Ranges))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer := realclientip.RemoteAddrStrategy{}.ClientIP(nil, r.RemoteAddr)
			if ip := net.ParseIP(peer); ip != nil && trusted(ip, p.Ranges) {
				if client := fromHeader.ClientIP(r.Header, r.RemoteAddr); client != "" {
					r = r.Clone(r.Context())
					r.RemoteAddr = net.JoinHostPort(client, "0")
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func trusted(ip net.IP, ranges []net.IPNet) bool {
	for _, n := range ranges {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ClientIP is the client's address of r, once clientAddress has run: the
// host of RemoteAddr.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
