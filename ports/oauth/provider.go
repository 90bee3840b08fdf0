// Package oauth is the service's OAuth 2.0 authorization server, built on
// zitadel/oidc's op package: discovery (OpenID and RFC 8414), authorize with
// server-rendered login and consent pages, token (authorization_code with
// PKCE, refresh_token with rotation, client_credentials), introspection,
// revocation and JWKS, all under /oauth on the issuer's origin.
package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// Paths of the endpoints, relative to the issuer.
const (
	PathAuthorize  = "/oauth/authorize"
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathRevoke     = "/oauth/revoke"
	PathKeys       = "/oauth/keys"
	PathUserinfo   = "/oauth/userinfo"
	PathLogout     = "/oauth/logout"
	PathLogin      = "/oauth/login"
	PathConsent    = "/oauth/consent"
)

// Config is what the authorization server needs from the wiring.
type Config struct {
	Issuer          string // CUSTOM_GPT_PUBLIC_URL: https, or http on loopback
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Apps            Apps
	Store           Store
	Keys            Keys
	// AccessTokens checks the access tokens introspection, userinfo and
	// revocation are given: the same check as the API's.
	AccessTokens AccessTokens
	// Users checks an end user's password: errs.Unauthorized for a wrong
	// email or password, errs.Forbidden for a disabled user.
	Users    query.AuthenticateUserHandler
	Sessions Sessions
	Health   func(context.Context) error
	// Limiter, when set, keeps the budgets of the token and authorization
	// endpoints and of password attempts (limits.go).
	Limiter Limiter
	// CORSOrigins may call the protocol endpoints from a browser; none when empty.
	CORSOrigins []string
	Logger      *slog.Logger
	// Upstream, when set, offers sign-in through an upstream OpenID provider.
	Upstream *Upstream
	// MetadataDocuments, when set, lets clients register with a Client ID
	// Metadata Document: a client_id that is an https URL is fetched.
	MetadataDocuments MetadataDocuments
	// Export writes, as one JSON document, every memory the end user stored
	// in every application; the account page offers it as a download.
	Export func(ctx context.Context, w io.Writer, userID, email string) error
}

// Server is the mounted authorization server.
type Server struct {
	Handler http.Handler // serves /.well-known/* and /oauth/*
}

// New builds the authorization server.
func New(cfg Config) (*Server, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil || (issuer.Path != "" && issuer.Path != "/") {
		return nil, fmt.Errorf("CUSTOM_GPT_PUBLIC_URL must be an origin without a path, got %q", cfg.Issuer)
	}
	if cfg.AccessTokens == nil {
		return nil, errors.New("oauth: AccessTokens is required")
	}
	now := func() time.Time { return time.Now().UTC() }
	st := &storage{apps: cfg.Apps, store: cfg.Store, keys: cfg.Keys, health: cfg.Health, now: now, documents: cfg.MetadataDocuments,
		loginURL: func(id string) string { return PathLogin + "?id=" + url.QueryEscape(id) }}

	var cryptoKey [32]byte // codes are looked up by hash, never decrypted: a per-process key is enough
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, err
	}
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(PathAuthorize[1:]), op.NewEndpoint(PathToken[1:]), op.NewEndpoint(PathUserinfo[1:]),
			op.NewEndpoint(PathRevoke[1:]), op.NewEndpoint(PathLogout[1:]), op.NewEndpoint(PathKeys[1:])),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathIntrospect[1:])),
	}
	if issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure()) // loopback only: config validation refuses other http issuers
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedScopes:       oauth.Supported,
	}, st, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	// Only what is served is routed and advertised: no device flow, and sign-out
	// is a page of ours (logout.go) rather than zitadel's, which redirects to a
	// URL this server does not have.
	endpoints := provider.Endpoints()
	endpoints.DeviceAuthorization, endpoints.EndSession = nil, nil
	srv := &server{
		LegacyServer: op.NewLegacyServer(provider, endpoints),
		storage:      st,
		tokens: &tokens{issuer: cfg.Issuer, keys: cfg.Keys, store: cfg.Store, accessTTL: cfg.AccessTokenTTL,
			refreshTTL: cfg.RefreshTokenTTL, now: now},
		access: cfg.AccessTokens,
		limits: limits{limiter: cfg.Limiter},
		logger: cfg.Logger,
	}
	pages := &pages{store: cfg.Store, apps: cfg.Apps, users: cfg.Users, sessions: cfg.Sessions, limiter: cfg.Limiter,
		now: now, secure: issuer.Scheme == "https", logger: cfg.Logger, export: cfg.Export,
		respondCode: func(w http.ResponseWriter, r *http.Request, req *oauth.AuthRequest) {
			op.AuthResponse(authRequest{req}, provider, w, r)
		}}
	if cfg.Upstream != nil {
		if pages.upstream, err = newUpstreamSignIn(*cfg.Upstream, cfg.Issuer, pages.secure, pages); err != nil {
			return nil, err
		}
	}

	// zitadel's authorize callback hands the code of a completed request to
	// whoever asks with its id, so it is closed: the consent answer carries the
	// code instead (pages.submitConsent).
	noCallback := func(w http.ResponseWriter, _ *http.Request) {
		pages.fail(w, http.StatusNotFound, "This link is not used", "Go back to ChatGPT and connect again.")
	}
	protocol := srv.limits.guard(protocolHeaders(
		op.RegisterLegacyServer(srv, noCallback, op.WithServerCORSOptions(corsOptions(cfg.CORSOrigins)))))
	r := chi.NewRouter()
	pages.routes(r)
	pages.logoutRoutes(r)
	register := http.Handler(http.HandlerFunc(srv.register))
	if opts := corsOptions(cfg.CORSOrigins); opts != nil {
		register = cors.New(*opts).Handler(register) // browser-based clients register too
	}
	r.Method(http.MethodPost, PathRegister, register)
	r.Method(http.MethodOptions, PathRegister, register)
	// RFC 8414 metadata: the same document as OpenID discovery.
	r.Get("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		protocol.ServeHTTP(w, rewritePath(r, "/.well-known/openid-configuration"))
	})
	r.Handle("/*", protocol)
	return &Server{Handler: withIssuerParam(cfg.Issuer, r)}, nil
}

func rewritePath(r *http.Request, path string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	return r2
}

// protocolHeaders: token, introspection and revocation answers are never
// cached (RFC 6749 5.1), and a 401 from them names the Basic scheme (RFC 6749
// 5.2), which zitadel leaves out; a 401 from userinfo names Bearer.
func protocolHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathToken, PathIntrospect, PathRevoke:
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			next.ServeHTTP(&basicChallenge{ResponseWriter: w}, r)
			return
		case PathUserinfo:
			next.ServeHTTP(&bearerChallenge{ResponseWriter: w, sentToken: r.Header.Get("Authorization") != ""}, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type basicChallenge struct{ http.ResponseWriter }

func (w *basicChallenge) WriteHeader(code int) {
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="custom-gpt-adapter"`)
	}
	w.ResponseWriter.WriteHeader(code)
}
