package memorybank

import (
	"net/url"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// message is one turn of the conversation mem0 builds memories from.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ossDialect speaks mem0's open-source server (server/main.py): no /v1 prefix.
type ossDialect struct{}

type ossAddRequest struct {
	Messages []message      `json:"messages"`
	UserID   string         `json:"user_id"`
	AgentID  string         `json:"agent_id"`
	Metadata map[string]any `json:"metadata"`
	Infer    bool           `json:"infer"`
}

// ossSearchRequest sends the limit under both names: servers read one or the other
// (pydantic ignores the unknown one), and the oldest read neither, so Search cuts too.
type ossSearchRequest struct {
	Query   string `json:"query"`
	UserID  string `json:"user_id"`
	AgentID string `json:"agent_id"`
	Limit   int    `json:"limit"`
	TopK    int    `json:"top_k"`
}

func (ossDialect) addRequest(scope memory.Scope, d memory.Draft, operationID string, infer bool) (string, any) {
	return "/memories", ossAddRequest{
		Messages: []message{{Role: "user", Content: d.Content}},
		UserID:   scope.UserID(),
		AgentID:  scope.AgentID(),
		Metadata: d.Tags(scope, operationID),
		Infer:    infer,
	}
}

// ossUpdateRequest sends the memory's metadata back with the new text: mem0's
// open-source update otherwise replaces the metadata with nothing, losing our tags.
type ossUpdateRequest struct {
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// listPath ignores paging: the open-source server answers with the whole scope.
func (ossDialect) listPath(scope memory.Scope, _, _ int) string {
	return "/memories?" + scopeQuery(scope)
}

func (ossDialect) listsInPages() bool { return false }

func (ossDialect) memoryPath(id string) string { return "/memories/" + url.PathEscape(id) }

func (d ossDialect) historyPath(id string) string { return d.memoryPath(id) + "/history" }

func (ossDialect) updateBody(content string, metadata map[string]any) any {
	return ossUpdateRequest{Text: content, Metadata: metadata}
}

func (ossDialect) deleteAllPath(scope memory.Scope) string {
	return "/memories?" + scopeQuery(scope)
}

func (ossDialect) searchRequest(scope memory.Scope, q memory.Query) (string, any) {
	return "/search", ossSearchRequest{Query: q.Text, UserID: scope.UserID(), AgentID: scope.AgentID(), Limit: q.Limit, TopK: q.Limit}
}

func (ossDialect) authHeader(apiKey string) (string, string) {
	if apiKey == "" {
		return "", ""
	}
	return "X-API-Key", apiKey
}

func scopeQuery(scope memory.Scope) string {
	return url.Values{"user_id": {scope.UserID()}, "agent_id": {scope.AgentID()}}.Encode()
}
