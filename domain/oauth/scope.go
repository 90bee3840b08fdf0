// Package oauth holds the rules of the service's OAuth 2.0 authorization server
// that do not depend on any library: scopes, PKCE, authorization requests,
// codes and grants.
package oauth

import (
	"slices"
	"strings"
)

// Scopes a client may ask for.
const (
	// ScopeRead allows search, list, get and reading operations.
	ScopeRead = "memories:read"
	// ScopeWrite allows create, update and delete.
	ScopeWrite = "memories:write"
)

// Supported lists every scope the server grants.
var Supported = []string{ScopeRead, ScopeWrite}

// IsSupported tells whether scope is one the server grants.
func IsSupported(scope string) bool { return slices.Contains(Supported, scope) }

// Scopes is a set of granted scopes.
type Scopes []string

// ParseScopes splits a space-separated scope string, dropping duplicates.
func ParseScopes(s string) Scopes {
	var out Scopes
	for _, sc := range strings.Fields(s) {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// Has tells whether the set holds scope.
func (s Scopes) Has(scope string) bool { return slices.Contains(s, scope) }

// String is the space-separated wire form.
func (s Scopes) String() string { return strings.Join(s, " ") }

// Restrict keeps the supported scopes only, once each. An empty result means
// nothing grantable was asked for, and the request is refused with invalid_scope.
func Restrict(requested []string) Scopes {
	var out Scopes
	for _, sc := range requested {
		if IsSupported(sc) && !out.Has(sc) {
			out = append(out, sc)
		}
	}
	return out
}
