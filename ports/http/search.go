package http

import (
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type searchRequest struct {
	Query string `json:"query" minLength:"1" maxLength:"2000" doc:"What to look for, in natural language." example:"seat preference"`
	Limit *int   `json:"limit,omitempty" minimum:"1" maximum:"50" default:"10" doc:"How many memories to return at most." example:"5"`
}

type searchResult struct {
	MemoryID       string         `json:"memory_id" doc:"The memory's id, for getMemory, updateMemory or deleteMemory." example:"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Content        string         `json:"content" doc:"What was remembered; cut when truncated is true." example:"The user prefers window seats on long flights"`
	RelevanceScore float64        `json:"relevance_score" minimum:"0" maximum:"1" doc:"How well the memory matches the query, from 0 to 1." example:"0.83"`
	Metadata       map[string]any `json:"metadata" doc:"The tags stored with the memory." example:"{\"topic\":\"travel\"}"`
	CreatedAt      *time.Time     `json:"created_at" nullable:"true" doc:"When the memory was stored; null when the Memory Bank did not say." example:"2026-11-26T10:00:00Z"`
	Truncated      bool           `json:"truncated,omitempty" doc:"True when content was cut to keep the answer small." example:"false"`
}

type searchResponse struct {
	RequestID string         `json:"request_id" doc:"The request's id, for support." example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	Results   []searchResult `json:"results" doc:"The best matches first."`
	Truncated bool           `json:"truncated" doc:"True when contents were cut or results left out to keep the answer under 100,000 characters." example:"false"`
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
	caller := request.Caller(r.Context())
	hits, err := s.app.Queries.SearchMemories.Handle(r.Context(), query.SearchMemories{
		AppID: caller.AppID, EndUser: caller.EndUser, Query: q, RequestID: request.ID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := searchResponse{RequestID: request.ID(r.Context()), Results: make([]searchResult, 0, len(hits))}
	for _, h := range hits {
		resp.Results = append(resp.Results, searchResult{
			MemoryID: h.ID, Content: h.Content, RelevanceScore: h.Relevance,
			Metadata: publicMetadata(h.Metadata), CreatedAt: timeOrNil(h.CreatedAt),
		})
	}
	cut, body := fitResults(&resp)
	if cut {
		resp.Truncated = true
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeEncoded(w, http.StatusOK, body)
}

// publicMetadata hides the service's own bookkeeping tags, except the
// conversation id, which the caller set.
func publicMetadata(m map[string]any) map[string]any { return memory.PublicMetadata(m) }

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
