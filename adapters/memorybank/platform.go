package memorybank

import (
	"net/url"
	"strconv"

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

// platformUpdateRequest is the whole PUT body mem0's document describes: the platform
// keeps the memory's metadata by itself.
type platformUpdateRequest struct {
	Text string `json:"text"`
}

// listPath asks for one page: page and page_size make mem0 answer
// {"count","next","previous","results"} instead of a bare list.
func (platformDialect) listPath(scope memory.Scope, page, size int) string {
	q := url.Values{
		"user_id":   {scope.UserID()},
		"agent_id":  {scope.AgentID()},
		"page":      {strconv.Itoa(page)},
		"page_size": {strconv.Itoa(size)},
	}
	return "/v1/memories/?" + q.Encode()
}

func (platformDialect) listsInPages() bool { return true }

func (platformDialect) memoryPath(id string) string {
	return "/v1/memories/" + url.PathEscape(id) + "/"
}

func (platformDialect) historyPath(id string) string {
	return "/v1/memories/" + url.PathEscape(id) + "/history/"
}

func (platformDialect) updateBody(content string, _ map[string]any) any {
	return platformUpdateRequest{Text: content}
}

func (platformDialect) deleteAllPath(scope memory.Scope) string {
	return "/v1/memories/?" + scopeQuery(scope)
}

func (platformDialect) searchRequest(scope memory.Scope, q memory.Query) (string, any) {
	return "/v1/memories/search/", platformSearchRequest{Query: q.Text, UserID: scope.UserID(), AgentID: scope.AgentID(), TopK: q.Limit}
}

func (platformDialect) authHeader(apiKey string) (string, string) {
	return "Authorization", "Token " + apiKey
}
