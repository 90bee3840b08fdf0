package application

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// MCPEnabled tells whether the application's MCP endpoint answers. It is off
// until its operator switches it on: a new door is opened on purpose.
func (a *Application) MCPEnabled() bool { return a.mcp }

// SetMCP switches the application's MCP endpoint on or off.
func (a *Application) SetMCP(enabled bool, now time.Time) {
	a.mcp = enabled
	a.updatedAt = now
}

// WithStoredMCP restores the MCP switch read from storage; adapters only.
func (a *Application) WithStoredMCP(enabled bool, redirectHosts []string) *Application {
	a.mcp = enabled
	a.mcpRedirectHosts = redirectHosts
	return a
}

// MaxMCPRedirectHosts bounds an application's registration policy.
const MaxMCPRedirectHosts = 20

// MCPRedirectHosts are the hosts the operator allows beyond the defaults
// (AllowsMCPRedirect), for clients that register themselves.
func (a *Application) MCPRedirectHosts() []string { return slices.Clone(a.mcpRedirectHosts) }

// AllowMCPRedirectHosts adds hosts to the registration policy. A host is a
// name ("vscode.dev": any https URI on it) or a private-use scheme with its
// host ("cursor://anysphere.cursor-mcp", RFC 8252 7.1: native apps).
func (a *Application) AllowMCPRedirectHosts(hosts []string, now time.Time) error {
	next := slices.Clone(a.mcpRedirectHosts)
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if err := validRedirectHost(h); err != nil {
			return err
		}
		if !slices.Contains(next, h) {
			next = append(next, h)
		}
	}
	if len(next) > MaxMCPRedirectHosts {
		return errs.Invalid("redirect_host", "too-many-redirect-hosts", "an application may allow at most 20 redirect hosts")
	}
	a.mcpRedirectHosts = next
	a.updatedAt = now
	return nil
}

// ClearMCPRedirectHosts goes back to the default policy.
func (a *Application) ClearMCPRedirectHosts(now time.Time) {
	a.mcpRedirectHosts = nil
	a.updatedAt = now
}

func validRedirectHost(h string) error {
	bad := errs.Invalid("redirect_host", "redirect-host-invalid",
		`a redirect host is a host name ("vscode.dev") or a private-use scheme and host ("cursor://anysphere.cursor-mcp")`)
	scheme, host, custom := strings.Cut(h, "://")
	if !custom {
		scheme, host = "https", h
	}
	u, err := url.Parse(scheme + "://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.Path != "" || u.User != nil {
		return bad
	}
	if custom && (scheme == "http" || scheme == "https" || oauth.UnsafeRedirectScheme(scheme)) {
		return bad // http(s) hosts are given bare
	}
	return nil
}

// The redirect URIs every application allows clients that register
// themselves, without configuration: the connector callbacks of ChatGPT and
// Claude, and loopback addresses for native apps (RFC 8252 7.3).
var (
	defaultRedirectPrefixes = []string{"https://chatgpt.com/connector/oauth/"}
	defaultRedirectURIs     = []string{
		"https://chatgpt.com/connector_platform_oauth_redirect",
		"https://claude.ai/api/mcp/auth_callback",
		"https://claude.com/api/mcp/auth_callback",
	}
)

// AllowsMCPRedirect tells whether a client that registered itself may be
// sent to uri by this application's authorization requests.
func (a *Application) AllowsMCPRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.User != nil || u.Fragment != "" {
		return false
	}
	if slices.Contains(defaultRedirectURIs, uri) {
		return true
	}
	for _, p := range defaultRedirectPrefixes {
		if rest, ok := strings.CutPrefix(uri, p); ok && rest != "" && !strings.ContainsAny(rest, "/?") {
			return true
		}
	}
	if IsLoopbackRedirect(u) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	for _, allowed := range a.mcpRedirectHosts {
		scheme, h, custom := strings.Cut(allowed, "://")
		if !custom {
			scheme, h = "https", allowed
		}
		if strings.EqualFold(u.Scheme, scheme) && host == h {
			return true
		}
	}
	return false
}

// IsLoopbackRedirect tells whether u is an http(s) URI on a loopback address.
func IsLoopbackRedirect(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
