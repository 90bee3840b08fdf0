package memorybank

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// platformDialect speaks mem0's hosted API on its current routes: the v3 add,
// list and search of mem0's docs/openapi.json (the v1 and v2 add, list and
// search routes are deprecated there), v1 for one memory and its events.
// Trailing slashes matter.
//
// Only user_id narrows a query: a memory mem0 infers is attributed to its
// speaker, so it carries user_id but not agent_id, and a filter naming both
// finds nothing (docs/platform/features/v2-memory-filters.mdx). Our user_id
// alone names one scope: "<app_id>" or "<app_id>:<end user>", and an
// application id holds no ':'.
type platformDialect struct{}

type platformAddRequest struct {
	Messages []message      `json:"messages"`
	UserID   string         `json:"user_id"`
	AgentID  string         `json:"agent_id"`
	Metadata map[string]any `json:"metadata"`
	// Infer false stores the content verbatim and answers at once; true answers
	// {"status":"PENDING","event_id"} and extracts in the background.
	Infer bool `json:"infer"`
}

type platformSearchRequest struct {
	Query   string         `json:"query"`
	Filters map[string]any `json:"filters"`
	TopK    int            `json:"top_k"`
}

type platformListRequest struct {
	Filters map[string]any `json:"filters"`
}

// platformPageSize is the largest page POST /v3/memories/ serves.
const platformPageSize = 200

func (platformDialect) addRequest(scope memory.Scope, d memory.Draft, operationID string, infer bool) (string, any) {
	return "/v3/memories/add/", platformAddRequest{
		Messages: []message{{Role: "user", Content: d.Content}},
		UserID:   scope.UserID(),
		AgentID:  scope.AgentID(),
		Metadata: d.Tags(scope, operationID),
		Infer:    infer,
	}
}

func (platformDialect) eventPath(id string) string { return "/v1/event/" + url.PathEscape(id) + "/" }

func listPath(size int) string {
	return "/v3/memories/?" + url.Values{"page": {"1"}, "page_size": {strconv.Itoa(size)}}.Encode()
}

func (platformDialect) scopeFilter(scope memory.Scope) map[string]any {
	return map[string]any{"user_id": scope.UserID()}
}

// findRequest lists the memories whose metadata holds operationID: an exact
// filter, unlike a search, whose threshold could drop them.
func (d platformDialect) findRequest(scope memory.Scope, operationID, _ string) (string, string, any) {
	f := map[string]any{"AND": []any{d.scopeFilter(scope), map[string]any{"metadata": map[string]any{memory.TagOperationID: operationID}}}}
	return http.MethodPost, listPath(findLimit), platformListRequest{Filters: f}
}

func (d platformDialect) heldRequest(scope memory.Scope) (string, string, any) {
	return http.MethodPost, listPath(platformPageSize), platformListRequest{Filters: d.scopeFilter(scope)}
}

// getManyRequest reads the memories of ids in one page.
func (d platformDialect) getManyRequest(scope memory.Scope, ids []string) (string, string, any, bool) {
	f := map[string]any{"AND": []any{d.scopeFilter(scope), map[string]any{"memory_ids": ids}}}
	return http.MethodPost, listPath(min(max(len(ids), 1), platformPageSize)), platformListRequest{Filters: f}, true
}

func (d platformDialect) searchRequest(scope memory.Scope, q memory.Query) (string, any) {
	return "/v3/memories/search/", platformSearchRequest{Query: q.Text, Filters: d.scopeFilter(scope), TopK: q.Limit}
}

func (platformDialect) memoryPath(id string) string {
	return "/v1/memories/" + url.PathEscape(id) + "/"
}

func (platformDialect) historyPath(id string) string {
	return "/v1/memories/" + url.PathEscape(id) + "/history/"
}

// platformUpdateRequest: the platform keeps a memory's metadata by itself.
type platformUpdateRequest struct {
	Text string `json:"text"`
}

func (platformDialect) updateBody(content string, _ map[string]any) any {
	return platformUpdateRequest{Text: content}
}

// deleteAllRequest: the platform answers "Delete in progress" and deletes in
// the background.
func (platformDialect) deleteAllRequest(scope memory.Scope) (string, bool) {
	return "/v1/memories/?" + url.Values{"user_id": {scope.UserID()}}.Encode(), true
}

// ownedBy: the user id names the scope; an inferred memory has no agent id.
func (platformDialect) ownedBy(it wireItem, scope memory.Scope) bool {
	agent := rawString(it.AgentID)
	return rawString(it.UserID) == scope.UserID() && (agent == "" || agent == scope.AgentID())
}

func (platformDialect) authHeader(apiKey string) (string, string) {
	return "Authorization", "Token " + apiKey
}
