package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/resource"
)

// toolScopes is the scope each tool needs: memories:read for those that only
// read (readOnlyHint), memories:write for the others. It is filled as the
// tools are added, so a tool cannot be added without one.
type toolScopes map[string]string

// add registers a tool and the scope it needs.
func add[In, Out any](s *mcp.Server, scopes toolScopes, tool *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	scopes[tool.Name] = oauth.ScopeWrite
	if tool.Annotations != nil && tool.Annotations.ReadOnlyHint {
		scopes[tool.Name] = oauth.ScopeRead
	}
	mcp.AddTool(s, tool, h)
}

// maxInspectedBody bounds the body read to find the tools a request calls; a
// tool call's arguments are far smaller (a memory is at most 16 KiB).
const maxInspectedBody = 1 << 20

// insufficientScope answers 403 (RFC 6750 section 3.1) when the request
// calls a tool the caller's token was not granted the scope of, before any
// tool runs, naming the scopes to ask for. A caller holding every scope (an
// API key) is let through unread. It tells false when it answered.
func (g guard) insufficientScope(w http.ResponseWriter, r *http.Request, caller query.Caller, appID string) bool {
	if allowsAll(caller) || r.Body == nil {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInspectedBody+1))
	if err != nil {
		problems.Write(w, r, http.StatusBadRequest, "unreadable-body", "", "the request body could not be read")
		return false
	}
	if len(body) > maxInspectedBody {
		problems.Write(w, r, http.StatusRequestEntityTooLarge, "body-too-large", "", fmt.Sprintf("the request body is larger than %d KiB", maxInspectedBody>>10))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	for _, name := range calledTools(body) {
		if need, ok := g.scopes[name]; ok && !caller.Allows(need) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q`,
				oauth.Scopes(oauth.Supported).String(), resource.Metadata(g.issuer, appID)))
			problems.Write(w, r, http.StatusForbidden, "insufficient-scope", "",
				fmt.Sprintf("the tool %s needs the scope %s, which this token was not granted", name, need))
			return false
		}
	}
	return true
}

func allowsAll(c query.Caller) bool {
	for _, sc := range oauth.Supported {
		if !c.Allows(sc) {
			return false
		}
	}
	return true
}

// calledTools lists the tools a JSON-RPC message, or batch of them, calls.
// What does not parse is left to the SDK to refuse.
func calledTools(body []byte) []string {
	type message struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var batch []message
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		_ = json.Unmarshal(trimmed, &batch)
	} else {
		var one message
		if json.Unmarshal(trimmed, &one) == nil {
			batch = append(batch, one)
		}
	}
	var names []string
	for _, m := range batch {
		if m.Method == "tools/call" {
			names = append(names, m.Params.Name)
		}
	}
	return names
}
