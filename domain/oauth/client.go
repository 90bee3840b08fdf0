package oauth

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Client is an OAuth client that registered itself to reach MCP endpoints,
// as ChatGPT's and Claude's connectors do: by Dynamic Client Registration
// (RFC 7591), or by a Client ID Metadata Document, whose URL is its id. An
// application's own client (its id is the application's) is not one.
// Nobody here vouches for what a Client says of itself.
type Client struct {
	ID           string
	Kind         ClientKind
	Name         string // as the client registered it: shown as unverified
	URI          string // its home page, if it gave one
	RedirectURIs []string
	AuthMethod   string // AuthNone, or a secret in the header or the form
	SecretHash   []byte // client_secret_* registrations only
	CreatedAt    time.Time
	// RefreshAt is when a metadata document is fetched again (its cache
	// lifetime); zero for registrations.
	RefreshAt time.Time
}

// ClientKind says how a client registered.
type ClientKind string

const (
	KindRegistered       ClientKind = "registered"        // RFC 7591
	KindMetadataDocument ClientKind = "metadata-document" // its id is a URL
)

// Token endpoint authentication methods a client may register.
const (
	AuthNone        = "none"
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
)

// Public tells whether the client authenticates with nothing but PKCE.
func (c *Client) Public() bool { return c.AuthMethod == AuthNone }

// RegisteredClientPrefix starts the ids of dynamically registered clients, so
// they never collide with an application's id or a document's URL.
const RegisteredClientPrefix = "mcpc_"

// IsRegisteredClientID tells whether id names a client that registered
// itself (either way), not an application.
func IsRegisteredClientID(id string) bool {
	return strings.HasPrefix(id, RegisteredClientPrefix) || IsMetadataDocumentURL(id)
}

// IsMetadataDocumentURL tells whether a client_id is an https URL, which only
// a Client ID Metadata Document's can be.
func IsMetadataDocumentURL(id string) bool { return strings.HasPrefix(id, "https://") }

// Registration limits: what a client says of itself is stored and shown, so
// nothing in it may be large.
const (
	MaxClientRedirectURIs = 10
	maxClientName         = 100
	maxClientURI          = 512
	maxRedirectURI        = 2048
)

// ClientMetadata is what RFC 7591 section 2 and a metadata document share;
// other fields are accepted and ignored.
type ClientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	ClientSecret            string   `json:"client_secret,omitempty"`
}

// RFC 7591 3.2.2 error codes.
func errRedirectURI(d string) error { return &Error{Code: "invalid_redirect_uri", Description: d} }
func errMetadata(d string) error    { return &Error{Code: "invalid_client_metadata", Description: d} }

// ParseRegistration reads a Dynamic Client Registration request. A client
// asking for no authentication method gets client_secret_basic, RFC 7591's
// default; the caller issues the secret.
func ParseRegistration(body []byte) (ClientMetadata, error) {
	var m ClientMetadata
	if err := decodeStrict(body, &m); err != nil {
		return m, err
	}
	if m.ClientID != "" || m.ClientSecret != "" {
		return m, errMetadata("client_id and client_secret are issued, not chosen")
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthSecretBasic
	}
	if !slices.Contains([]string{AuthNone, AuthSecretBasic, AuthSecretPost}, m.TokenEndpointAuthMethod) {
		return m, errMetadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	return m, m.validate()
}

// ParseMetadataDocument reads the document fetched from a client_id URL. It
// must name that very URL (the draft's section 4.1), and the client is
// public: a document is public, so it can hold no secret.
func ParseMetadataDocument(clientID string, body []byte) (ClientMetadata, error) {
	var m ClientMetadata
	if err := decodeStrict(body, &m); err != nil {
		return m, err
	}
	if m.ClientID != clientID {
		return m, errMetadata("the metadata document's client_id is not the URL it was fetched from")
	}
	if m.ClientSecret != "" {
		return m, errMetadata("a metadata document must not hold a client_secret")
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthNone
	}
	if m.TokenEndpointAuthMethod != AuthNone {
		return m, errMetadata("token_endpoint_auth_method must be none: this server does not support private_key_jwt")
	}
	return m, m.validate()
}

func decodeStrict(body []byte, m *ClientMetadata) error {
	if !utf8.Valid(body) {
		return errMetadata("the client metadata is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(m); err != nil {
		return errMetadata("the client metadata is not a JSON object of RFC 7591 fields")
	}
	if dec.More() {
		return errMetadata("the client metadata has data after its JSON object")
	}
	return nil
}

func (m *ClientMetadata) validate() error {
	if len(m.RedirectURIs) == 0 {
		return errRedirectURI("redirect_uris is required")
	}
	if len(m.RedirectURIs) > MaxClientRedirectURIs {
		return errRedirectURI("at most 10 redirect_uris")
	}
	for _, uri := range m.RedirectURIs {
		if err := ValidateClientRedirectURI(uri); err != nil {
			return err
		}
	}
	for _, gt := range m.GrantTypes {
		if gt != "authorization_code" && gt != "refresh_token" {
			return errMetadata("grant_types may be authorization_code and refresh_token")
		}
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return errMetadata("response_types may only be code")
		}
	}
	m.ClientName = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1 // nothing that could rearrange the consent page's text
		}
		return r
	}, m.ClientName))
	if utf8.RuneCountInString(m.ClientName) > maxClientName {
		return errMetadata("client_name is longer than 100 characters")
	}
	if m.ClientURI != "" {
		u, err := url.Parse(m.ClientURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(m.ClientURI) > maxClientURI {
			return errMetadata("client_uri must be an https URL of at most 512 bytes")
		}
	}
	return nil
}

// ValidateClientRedirectURI accepts what a client may register: an absolute
// URI without fragment or user information, https, http on a loopback
// address, or a native app's private-use scheme (RFC 8252 7.1).
// Which of them an application allows is its own policy
// (application.AllowsMCPRedirect).
func ValidateClientRedirectURI(uri string) error {
	u, err := url.Parse(uri)
	switch {
	case err != nil || !u.IsAbs() || len(uri) > maxRedirectURI:
		return errRedirectURI("a redirect URI must be an absolute URI of at most 2048 bytes")
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return errRedirectURI("a redirect URI must not have a fragment")
	case u.User != nil:
		return errRedirectURI("a redirect URI must not carry user information")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errRedirectURI("an https redirect URI needs a host")
		}
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" || h == "::1" {
			return nil
		}
		return errRedirectURI("http redirect URIs are allowed only on a loopback address")
	}
	if UnsafeRedirectScheme(u.Scheme) {
		return errRedirectURI("a redirect URI must be https, http on loopback, or a native app's private-use scheme")
	}
	return nil
}

// UnsafeRedirectScheme tells the schemes a browser would run, show or fetch
// rather than hand to a native app (RFC 8252 7.1), which no redirect URI
// may use: RFC 8252 asks for reverse domain names, but clients such as
// cursor:// and vscode:// do not follow it.
func UnsafeRedirectScheme(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "javascript", "vbscript", "data", "file", "blob", "about", "filesystem", "ftp", "ws", "wss", "view-source", "chrome", "intent":
		return true
	}
	return false
}

// ClientFrom makes a client of checked metadata.
func ClientFrom(id string, kind ClientKind, m ClientMetadata, secretHash []byte, now time.Time) *Client {
	return &Client{ID: id, Kind: kind, Name: m.ClientName, URI: m.ClientURI, RedirectURIs: m.RedirectURIs,
		AuthMethod: m.TokenEndpointAuthMethod, SecretHash: secretHash, CreatedAt: now}
}

// DisplayName is how pages name the client: its own name, or failing that
// the host it came from.
func (c *Client) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	if u, err := url.Parse(c.ID); err == nil && u.Host != "" {
		return u.Host
	}
	if len(c.RedirectURIs) > 0 {
		if u, err := url.Parse(c.RedirectURIs[0]); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return "An unnamed client"
}

// ClientLink is one application as reached by one registered client: what
// `apps clients` lists and `apps revoke-client` ends.
type ClientLink struct {
	AppID     string
	Client    Client
	FirstUsed time.Time
	LastUsed  time.Time
	RevokedAt time.Time
}

// Revoked tells whether the application's operator revoked the client.
func (l ClientLink) Revoked() bool { return !l.RevokedAt.IsZero() }
