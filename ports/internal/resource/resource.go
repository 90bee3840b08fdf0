// Package resource names an application's MCP endpoint as a protected
// resource: the URL clients ask tokens for (RFC 8707), the audience of those
// tokens, and the subject of its metadata (RFC 9728). The authorization
// server and the MCP port must spell it identically, so it is spelled once.
package resource

import "strings"

// MCPPrefix is the path under which each application's MCP endpoint is served.
const MCPPrefix = "/mcp/"

// MetadataPrefix is where an MCP endpoint's protected resource metadata is
// served, the endpoint's path appended (RFC 9728 section 3.1).
const MetadataPrefix = "/.well-known/oauth-protected-resource"

// MCP is the resource URL of appID's MCP endpoint on the issuer's origin.
func MCP(issuer, appID string) string {
	return strings.TrimSuffix(issuer, "/") + MCPPrefix + appID
}

// Metadata is the URL of the protected resource metadata of appID's MCP endpoint.
func Metadata(issuer, appID string) string {
	return strings.TrimSuffix(issuer, "/") + MetadataPrefix + MCPPrefix + appID
}

// AppOfMCP returns the application whose MCP endpoint url is, if it is one
// on the issuer's origin.
func AppOfMCP(issuer, url string) (appID string, ok bool) {
	appID, ok = strings.CutPrefix(url, strings.TrimSuffix(issuer, "/")+MCPPrefix)
	if !ok || appID == "" || strings.ContainsAny(appID, "/?#") {
		return "", false
	}
	return appID, true
}
