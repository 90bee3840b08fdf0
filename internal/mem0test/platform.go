package mem0test

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// platformItem is a memory as mem0's hosted API gets, lists and searches it.
type platformItem struct {
	ID         string         `json:"id"`
	Memory     string         `json:"memory"`
	UserID     string         `json:"user_id"`
	AgentID    *string        `json:"agent_id"`
	AppID      *string        `json:"app_id"`
	RunID      *string        `json:"run_id"`
	Hash       string         `json:"hash"`
	Metadata   map[string]any `json:"metadata"`
	Categories []string       `json:"categories"`
	Immutable  bool           `json:"immutable"`
	Score      *float64       `json:"score,omitempty"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

func newPlatformItem(m *StoredMemory, score *float64) platformItem {
	return platformItem{
		ID: m.ID, Memory: m.Memory, UserID: m.UserID, AgentID: nullable(m.AgentID), RunID: nullable(m.RunID),
		Hash: m.hash(), Metadata: m.Metadata, Categories: []string{}, Score: score,
		CreatedAt: timestamp(m.CreatedAt), UpdatedAt: timestamp(m.UpdatedAt),
	}
}

const platformMissingID = "One of the filters: app_id, user_id, agent_id, run_id is required!"

func (s *Server) routePlatform() {
	s.routes.HandleFunc("POST /v1/memories/{$}", s.platformAdd)
	s.routes.HandleFunc("GET /v1/memories/{$}", s.platformList)
	s.routes.HandleFunc("DELETE /v1/memories/{$}", s.platformDeleteAll)
	s.routes.HandleFunc("POST /v1/memories/search/{$}", s.platformSearch)
	s.routes.HandleFunc("POST /v2/memories/search/{$}", s.platformSearch)
	s.routes.HandleFunc("GET /v1/memories/{id}/{$}", s.platformGet)
	s.routes.HandleFunc("PUT /v1/memories/{id}/{$}", s.platformUpdate)
	s.routes.HandleFunc("DELETE /v1/memories/{id}/{$}", s.platformDelete)
	s.routes.HandleFunc("GET /v1/memories/{id}/history/{$}", s.platformHistory)
}

// platformAdd stores at once; like mem0 it answers with a PENDING event unless the
// caller sent async_mode false.
func (s *Server) platformAdd(w http.ResponseWriter, r *http.Request) {
	var req addRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	if req.filter().empty() {
		s.writeError(w, http.StatusBadRequest, platformMissingID)
		return
	}
	type data struct {
		Memory string `json:"memory"`
	}
	type result struct {
		ID    string `json:"id"`
		Data  data   `json:"data"`
		Event string `json:"event"`
	}
	out := []result{}
	s.mu.Lock()
	at := now()
	for _, text := range req.contents() {
		m := s.st.add(req.filter(), text, req.Metadata, at)
		out = append(out, result{ID: m.ID, Data: data{Memory: m.Memory}, Event: "ADD"})
	}
	s.mu.Unlock()
	s.runAfterAdd()
	if req.AsyncMode == nil || *req.AsyncMode {
		s.writeJSON(w, http.StatusOK, []map[string]string{{
			"message":  "Memory processing has been queued for background execution",
			"status":   "PENDING",
			"event_id": uuid.NewString(),
		}})
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// platformList answers a bare list, or a page when page or page_size is given.
func (s *Server) platformList(w http.ResponseWriter, r *http.Request) {
	f := queryFilter(r)
	if f.empty() {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"message": platformMissingID})
		return
	}
	items := []platformItem{}
	s.mu.Lock()
	for _, m := range s.st.list(f) {
		items = append(items, newPlatformItem(m, nil))
	}
	s.mu.Unlock()
	q := r.URL.Query()
	if !q.Has("page") && !q.Has("page_size") {
		s.writeJSON(w, http.StatusOK, items)
		return
	}
	page, size := intParam(q.Get("page"), 1), intParam(q.Get("page_size"), 100)
	from := min((page-1)*size, len(items))
	to := min(from+size, len(items))
	var next *string
	if to < len(items) {
		q.Set("page", fmt.Sprint(page+1))
		next = ptr(s.URL() + r.URL.Path + "?" + q.Encode())
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "next": next, "previous": nil, "results": items[from:to]})
}

func (s *Server) platformSearch(w http.ResponseWriter, r *http.Request) {
	var req searchRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	f := req.filter()
	if req.Query == nil || f.empty() {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"message": "At least one of the filters: agent_id, user_id, app_id, run_id is required!"})
		return
	}
	out := []platformItem{}
	s.mu.Lock()
	limit := req.limit(10)
	if s.ignoreLimit {
		limit = 0
	}
	for _, hit := range s.st.search(*req.Query, f, limit, s.scorer) {
		out = append(out, newPlatformItem(hit.StoredMemory, ptr(hit.Score)))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) platformGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.get(r.PathValue("id"))
	if m == nil {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	s.writeJSON(w, http.StatusOK, newPlatformItem(m, nil))
}

func (s *Server) platformUpdate(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	if req.Text == nil {
		s.writeError(w, http.StatusBadRequest, "text is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.update(r.PathValue("id"), *req.Text, req.Metadata, now())
	if m == nil {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"id": m.ID, "text": m.Memory, "user_id": nullable(m.UserID), "agent_id": nullable(m.AgentID),
		"app_id": nil, "run_id": nullable(m.RunID), "hash": m.hash(), "metadata": m.Metadata,
		"created_at": timestamp(m.CreatedAt), "updated_at": timestamp(m.UpdatedAt),
	})
}

// platformDelete answers 204 as the document says; a 204 carries no body.
func (s *Server) platformDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.st.delete(r.PathValue("id"), now())
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) platformDeleteAll(w http.ResponseWriter, r *http.Request) {
	f := queryFilter(r)
	if f.empty() {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"message": platformMissingID})
		return
	}
	s.mu.Lock()
	s.st.deleteAll(f, now())
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) platformHistory(w http.ResponseWriter, r *http.Request) {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type entry struct {
		ID        string    `json:"id"`
		MemoryID  string    `json:"memory_id"`
		Input     []message `json:"input"`
		OldMemory *string   `json:"old_memory"`
		NewMemory string    `json:"new_memory"`
		UserID    string    `json:"user_id"`
		Event     string    `json:"event"`
		Metadata  any       `json:"metadata"`
		CreatedAt string    `json:"created_at"`
		UpdatedAt string    `json:"updated_at"`
	}
	out := []entry{}
	s.mu.Lock()
	for _, h := range s.st.history[r.PathValue("id")] {
		input := []message{}
		if h.NewMemory != "" {
			input = append(input, message{Role: "user", Content: h.NewMemory})
		}
		out = append(out, entry{
			ID: h.ID, MemoryID: h.MemoryID, Input: input, OldMemory: nullable(h.OldMemory), NewMemory: h.NewMemory,
			UserID: h.UserID, Event: h.Event, CreatedAt: timestamp(h.CreatedAt), UpdatedAt: timestamp(h.CreatedAt),
		})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}
