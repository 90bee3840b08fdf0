package mcp

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
)

// tools holds what every tool handler needs.
type tools struct {
	app    app.Application
	cfg    Config
	scopes toolScopes
}

// newServer is the one MCP server every request of every application shares:
// the tools find the caller, and so the memory space, in the request's context.
// It returns the scope each of its tools needs beside it.
func newServer(a app.Application, cfg Config) (*mcp.Server, toolScopes) {
	s := mcp.NewServer(&mcp.Implementation{Name: "custom-gpt-adapter", Title: "Long-term memory", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: "Long-term memory of the user, shared with their Custom GPT. Search it before answering " +
			"anything that may depend on what the user told you before; remember durable facts the user states " +
			"(preferences, plans, people, projects), one short self-contained sentence each.",
		Logger: cfg.Logger,
	})
	t := tools{app: a, cfg: cfg, scopes: toolScopes{}}
	t.addReads(s)
	t.addWrites(s)
	return s, t.scopes
}

// hints are a tool's annotations. Every tool stays inside this service's
// memory (openWorldHint false).
func hints(title string, readOnly, destructive, idempotent bool) *mcp.ToolAnnotations {
	closed := false
	return &mcp.ToolAnnotations{
		Title: title, ReadOnlyHint: readOnly, DestructiveHint: &destructive, IdempotentHint: idempotent, OpenWorldHint: &closed,
	}
}

// text is a tool's short text content, beside its structured content.
func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}
