package service

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Variables of the optional upstream OpenID provider.
const (
	envUpstreamIssuer       = "CUSTOM_GPT_UPSTREAM_OIDC_ISSUER"
	envUpstreamClientID     = "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_ID"
	envUpstreamClientSecret = "CUSTOM_GPT_UPSTREAM_OIDC_CLIENT_SECRET"
	envUpstreamName         = "CUSTOM_GPT_UPSTREAM_OIDC_NAME"
)

// UpstreamOIDC is the OpenID provider end users may sign in through instead of
// a password. The zero value turns it off. The provider must have this
// service registered as a confidential client whose redirect URI is
// <CUSTOM_GPT_PUBLIC_URL>/oauth/upstream/callback.
type UpstreamOIDC struct {
	Issuer       string // exactly as the provider's discovery document spells it
	ClientID     string
	ClientSecret string
	Name         string // shown on the "Sign in with …" button; defaults to the issuer's host
}

// Enabled tells whether an upstream provider is configured.
func (u UpstreamOIDC) Enabled() bool { return u.Issuer != "" }

// loadUpstreamOIDC reads the three variables, all or none, and the optional
// name. A partial configuration is an error naming each missing variable:
// silently running without the button would look like a broken deployment.
func loadUpstreamOIDC(p *parser) UpstreamOIDC {
	u := UpstreamOIDC{
		Issuer:       p.str(envUpstreamIssuer, ""),
		ClientID:     p.str(envUpstreamClientID, ""),
		ClientSecret: p.str(envUpstreamClientSecret, ""),
		Name:         p.str(envUpstreamName, ""),
	}
	set := map[string]string{envUpstreamIssuer: u.Issuer, envUpstreamClientID: u.ClientID, envUpstreamClientSecret: u.ClientSecret}
	var missing int
	for _, name := range []string{envUpstreamIssuer, envUpstreamClientID, envUpstreamClientSecret} {
		if set[name] == "" {
			missing++
		}
	}
	switch {
	case missing == 3:
		if u.Name != "" {
			p.fail(envUpstreamName, "is set but no upstream OpenID provider is configured (set "+envUpstreamIssuer+", "+
				envUpstreamClientID+" and "+envUpstreamClientSecret+")")
		}
		return UpstreamOIDC{}
	case missing > 0:
		for _, name := range []string{envUpstreamIssuer, envUpstreamClientID, envUpstreamClientSecret} {
			if set[name] == "" {
				p.fail(name, "is required: the upstream OpenID provider needs "+envUpstreamIssuer+", "+
					envUpstreamClientID+" and "+envUpstreamClientSecret+" together, or none of them")
			}
		}
		return UpstreamOIDC{}
	}
	host, err := validateUpstreamIssuer(u.Issuer)
	if err != nil {
		p.fail(envUpstreamIssuer, err.Error())
		return UpstreamOIDC{}
	}
	if u.Name == "" {
		u.Name = host
	}
	if utf8.RuneCountInString(u.Name) > 64 || strings.ContainsFunc(u.Name, unicode.IsControl) {
		p.fail(envUpstreamName, "must be at most 64 characters, without control characters")
	}
	return u
}

// validateUpstreamIssuer: the issuer is where discovery, keys and tokens come
// from, so it must be https, except on a loopback address for local use. A
// path is allowed (e.g. Keycloak's /realms/NAME): issuers are compared as
// strings, exactly as configured.
func validateUpstreamIssuer(raw string) (host string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", errors.New("must be the provider's issuer URL, such as https://accounts.example.com, without query or fragment")
	}
	switch u.Scheme {
	case "https":
		return u.Hostname(), nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return u.Hostname(), nil
		}
		return "", errors.New("must use https unless it is a loopback address")
	}
	return "", errors.New("must be an https URL")
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return (ip != nil && ip.IsLoopback()) || host == "localhost"
}
