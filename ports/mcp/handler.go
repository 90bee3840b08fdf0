// Package mcp is the service's Model Context Protocol port: each
// application's /mcp/{app_id}, served by the official Go SDK in its stateless
// Streamable HTTP mode, whose tools call the same use cases as /api/v1.
package mcp

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
)

// Config is what the MCP port needs from the wiring.
type Config struct {
	Logger *slog.Logger
	// RememberWait is how long remember waits for its operation to finish
	// before answering it pending; 5 s when zero.
	RememberWait time.Duration
	// Version is the server version announced at initialize.
	Version string
	// PublicURL is the issuer's origin (CUSTOM_GPT_PUBLIC_URL): each endpoint's
	// URL, the audience its access tokens must have, is built on it.
	PublicURL string
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RememberWait <= 0 {
		c.RememberWait = 5 * time.Second
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// NewHandler serves /mcp/{app_id}. Stateless: no session outlives a request,
// so any API instance answers any request, and the SDK speaks every protocol
// version it knows. Who calls, and whether they may, is settled before the
// SDK reads the body (guard); the tools find the caller in the context.
func NewHandler(a app.Application, cfg Config) http.Handler {
	cfg.setDefaults()
	server, scopes := newServer(a, cfg)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{
		Stateless: true,
		Logger:    cfg.Logger,
		// The service sits behind proxies whose Host is not localhost; its
		// callers prove themselves with a bearer credential instead.
		DisableLocalhostProtection: true,
	})
	g := guard{app: a, issuer: cfg.PublicURL, scopes: scopes}
	mux := http.NewServeMux()
	mux.Handle("/mcp/{app_id}", named(g.admit(sdk)))
	mux.Handle("GET "+resource.MetadataPrefix+resource.MCPPrefix+"{app_id}", request.WithID(g.metadata()))
	mux.Handle("/", request.WithID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problems.Write(w, r, http.StatusNotFound, "not-found", "", "no such MCP endpoint")
	})))
	return mux
}
