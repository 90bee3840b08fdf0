package memorybank

import (
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// platformDialect speaks mem0's hosted API: /v1 routes whose trailing slashes matter.
type platformDialect struct{}

type platformAddRequest struct {
	Messages []message      `json:"messages"`
	UserID   string         `json:"user_id"`
	AgentID  string         `json:"agent_id"`
	Metadata map[string]any `json:"metadata"`
	Infer    bool           `json:"infer"`
	// AsyncMode false makes mem0 answer with the stored memories instead of a PENDING event.
	AsyncMode bool `json:"async_mode"`
}

type platformSearchRequest struct {
	Query   string `json:"query"`
	UserID  string `json:"user_id"`
	AgentID string `json:"agent_id"`
	TopK    int    `json:"top_k"`
}

func (platformDialect) addRequest(scope memory.Scope, d memory.Draft, operationID string, infer bool) (string, any) {
	return "/v1/memories/", platformAddRequest{
		Messages:  []message{{Role: "user", Content: d.Content}},
		UserID:    scope.UserID(),
		AgentID:   scope.AgentID(),
		Metadata:  d.Tags(scope, operationID),
		Infer:     infer,
		AsyncMode: false,
	}
}

func (platformDialect) listPath(scope memory.Scope) string {
	return "/v1/memories/?" + scopeQuery(scope)
}

func (platformDialect) searchRequest(scope memory.Scope, q memory.Query) (string, any) {
	return "/v1/memories/search/", platformSearchRequest{Query: q.Text, UserID: scope.UserID(), AgentID: scope.AgentID(), TopK: q.Limit}
}

func (platformDialect) authHeader(apiKey string) (string, string) {
	return "Authorization", "Token " + apiKey
}
