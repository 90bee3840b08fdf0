package memorybank

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// message is one turn of the conversation mem0 builds memories from.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ossDialect speaks mem0's open-source server (server/main.py of mem0 2.0.18):
// no /v1 prefix. Every memory it stores carries both ids we send (the library's
// _build_filters_and_metadata), so both narrow every query.
type ossDialect struct{}

type ossAddRequest struct {
	Messages []message      `json:"messages"`
	UserID   string         `json:"user_id"`
	AgentID  string         `json:"agent_id"`
	Metadata map[string]any `json:"metadata"`
	Infer    bool           `json:"infer"`
}

// ossSearchRequest puts the ids inside filters: top-level ids on /search are
// deprecated since mem0 2.x (server/main.py moves them there with a warning).
// threshold is sent only when it is not mem0's own default (0.1).
type ossSearchRequest struct {
	Query     string         `json:"query"`
	Filters   map[string]any `json:"filters"`
	TopK      int            `json:"top_k"`
	Threshold *float64       `json:"threshold,omitempty"`
}

// ossListLimit is the most GET /memories lists (ALL_MEMORIES_LIMIT in
// server/main.py; FastAPI refuses a larger top_k with 422). It lists in the
// vector store's order, not by date, and has no pages.
const ossListLimit = 1000

func (ossDialect) addRequest(scope memory.Scope, d memory.Draft, operationID string, infer bool) (string, any) {
	return "/memories", ossAddRequest{
		Messages: []message{{Role: "user", Content: d.Content}},
		UserID:   scope.UserID(),
		AgentID:  scope.AgentID(),
		Metadata: d.Tags(scope, operationID),
		Infer:    infer,
	}
}

func (ossDialect) filters(scope memory.Scope) map[string]any {
	return map[string]any{"user_id": scope.UserID(), "agent_id": scope.AgentID()}
}

// findRequest asks /search for the memories tagged with operationID. filters
// match payload keys, and our metadata keys are payload keys. threshold 0
// keeps every match, however it scores (mem0 drops scores below 0.1 by
// default, and an id is no text to match); the content as query ranks the
// operation's own memories first.
func (d ossDialect) findRequest(scope memory.Scope, operationID, hint string) (string, string, any) {
	f := d.filters(scope)
	f[memory.TagOperationID] = operationID
	zero := 0.0
	return http.MethodPost, "/search", ossSearchRequest{Query: findQuery(hint, operationID), Filters: f, TopK: findLimit, Threshold: &zero}
}

func (d ossDialect) heldRequest(scope memory.Scope) (string, string, any) {
	q := url.Values{"user_id": {scope.UserID()}, "agent_id": {scope.AgentID()}, "top_k": {strconv.Itoa(ossListLimit)}}
	return http.MethodGet, "/memories?" + q.Encode(), nil
}

func (d ossDialect) searchRequest(scope memory.Scope, q memory.Query) (string, any) {
	return "/search", ossSearchRequest{Query: q.Text, Filters: d.filters(scope), TopK: q.Limit}
}

func (ossDialect) memoryPath(id string) string { return "/memories/" + url.PathEscape(id) }

func (d ossDialect) historyPath(id string) string { return d.memoryPath(id) + "/history" }

// ossUpdateRequest sends the memory's metadata back with the new text: mem0
// 2.0.18 merges it, older servers replaced the metadata with what was sent.
type ossUpdateRequest struct {
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

func (ossDialect) updateBody(content string, metadata map[string]any) any {
	return ossUpdateRequest{Text: content, Metadata: metadata}
}

// deleteAllRequest is admin-only on mem0's server (require_admin): a
// per-user key gets 403, and the caller deletes by id instead.
func (ossDialect) deleteAllRequest(scope memory.Scope) (string, bool) {
	return "/memories?" + url.Values{"user_id": {scope.UserID()}, "agent_id": {scope.AgentID()}}.Encode(), false
}

// ownedBy: both ids are on every memory the open-source server stores for us.
func (ossDialect) ownedBy(it wireItem, scope memory.Scope) bool {
	return rawString(it.UserID) == scope.UserID() && rawString(it.AgentID) == scope.AgentID()
}

func (ossDialect) authHeader(apiKey string) (string, string) {
	if apiKey == "" {
		return "", ""
	}
	return "X-API-Key", apiKey
}

// getManyRequest: the open-source server reads memories one id at a time.
func (ossDialect) getManyRequest(memory.Scope, []string) (string, string, any, bool) {
	return "", "", nil, false
}

// eventPath: the open-source server adds synchronously and has no events.
func (ossDialect) eventPath(string) string { return "" }
