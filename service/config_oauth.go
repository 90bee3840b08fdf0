package service

import (
	"net/url"
	"strconv"
	"strings"
)

// Variables that guard the authorization server's public endpoints.
const (
	envAuthorizeRate    = "CUSTOM_GPT_AUTHORIZE_RATE"
	envOAuthCORSOrigins = "CUSTOM_GPT_OAUTH_CORS_ORIGINS"
	envRegisterRate     = "CUSTOM_GPT_CLIENT_REGISTRATION_RATE"
	envDocumentsPrivate = "CUSTOM_GPT_CLIENT_METADATA_ALLOW_PRIVATE"
)

// OAuthGuards bounds /oauth/authorize per address and names the web origins
// that may call the protocol endpoints from a browser.
type OAuthGuards struct {
	// AuthorizeRatePerMinute is how many authorization requests one address may
	// make a minute (and at once).
	AuthorizeRatePerMinute int
	// CORSOrigins are exact origins (scheme://host[:port]) allowed to call
	// /oauth/* and /.well-known/* cross-origin, without credentials; none when empty.
	CORSOrigins []string
	// RegisterRatePerHour is how many clients one address may register an
	// hour (and at once).
	RegisterRatePerHour int
	// DocumentsAllowPrivate lets client metadata documents be fetched from
	// loopback and private addresses, over http too (local use, tests).
	DocumentsAllowPrivate bool
}

func loadOAuthGuards(p *parser) OAuthGuards {
	g := OAuthGuards{AuthorizeRatePerMinute: p.integer(envAuthorizeRate, 30, 1, 100_000),
		RegisterRatePerHour:   p.integer(envRegisterRate, 20, 1, 100_000),
		DocumentsAllowPrivate: p.boolean(envDocumentsPrivate, false)}
	for _, raw := range strings.Split(p.str(envOAuthCORSOrigins, ""), ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		origin, ok := exactOrigin(raw)
		if !ok {
			p.fail(envOAuthCORSOrigins, "must be a comma-separated list of exact origins such as https://app.example.com (no path, no wildcard), got "+strconv.Quote(raw))
			continue
		}
		g.CORSOrigins = append(g.CORSOrigins, origin)
	}
	return g
}

// exactOrigin accepts scheme://host[:port] for http and https, as a browser
// sends it in Origin (lower case).
func exactOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(raw, "*?#") {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}
