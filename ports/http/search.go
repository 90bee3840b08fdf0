package http

import (
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

type searchRequest struct {
	Query string `json:"query"`
	Limit *int   `json:"limit"`
}

type searchResult struct {
	MemoryID       string         `json:"memory_id"`
	Content        string         `json:"content"`
	RelevanceScore float64        `json:"relevance_score"`
	Metadata       map[string]any `json:"metadata"`
	CreatedAt      *time.Time     `json:"created_at"`
}

type searchResponse struct {
	RequestID string         `json:"request_id"`
	Results   []searchResult `json:"results"`
}

func (s *Server) searchMemories(w http.ResponseWriter, r *http.Request) {
	var req searchRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	q, err := memory.NewQuery(req.Query, req.Limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	caller := callerFrom(r.Context())
	hits, err := s.app.Queries.SearchMemories.Handle(r.Context(), query.SearchMemories{
		AppID: caller.AppID, EndUser: caller.EndUser, Query: q, RequestID: requestID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := searchResponse{RequestID: requestID(r.Context()), Results: make([]searchResult, 0, len(hits))}
	for _, h := range hits {
		resp.Results = append(resp.Results, searchResult{
			MemoryID: h.ID, Content: h.Content, RelevanceScore: h.Relevance,
			Metadata: publicMetadata(h.Metadata), CreatedAt: timeOrNil(h.CreatedAt),
		})
	}
	writeJSON(w, http.StatusOK, resp)
}

// publicMetadata hides the service's own bookkeeping tags, except the
// conversation id, which the caller set.
func publicMetadata(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case memory.TagSource, memory.TagAppID, memory.TagOperationID:
			continue
		}
		out[k] = v
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
