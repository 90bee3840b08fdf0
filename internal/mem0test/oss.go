package mem0test

import (
	"net/http"
)

// ossItem is a memory as mem0's open-source server lists and searches it.
type ossItem struct {
	ID        string         `json:"id"`
	Memory    string         `json:"memory"`
	Hash      string         `json:"hash"`
	Metadata  map[string]any `json:"metadata"`
	Score     *float64       `json:"score,omitempty"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
	UserID    string         `json:"user_id,omitempty"`
	AgentID   string         `json:"agent_id,omitempty"`
	RunID     string         `json:"run_id,omitempty"`
}

func newOSSItem(m *StoredMemory, score *float64) ossItem {
	return ossItem{
		ID: m.ID, Memory: m.Memory, Hash: m.hash(), Metadata: m.Metadata, Score: score,
		CreatedAt: timestamp(m.CreatedAt), UpdatedAt: timestamp(m.UpdatedAt),
		UserID: m.UserID, AgentID: m.AgentID, RunID: m.RunID,
	}
}

type ossResults[T any] struct {
	Results []T `json:"results"`
}

const ossMissingID = "At least one identifier (user_id, agent_id, run_id) is required."

func (s *Server) routeOSS() {
	s.routes.HandleFunc("POST /memories", s.ossAdd)
	s.routes.HandleFunc("GET /memories", s.ossList)
	s.routes.HandleFunc("DELETE /memories", s.ossDeleteAll)
	s.routes.HandleFunc("GET /memories/{id}", s.ossGet)
	s.routes.HandleFunc("PUT /memories/{id}", s.ossUpdate)
	s.routes.HandleFunc("DELETE /memories/{id}", s.ossDelete)
	s.routes.HandleFunc("GET /memories/{id}/history", s.ossHistory)
	s.routes.HandleFunc("POST /search", s.ossSearch)
}

func (s *Server) ossAdd(w http.ResponseWriter, r *http.Request) {
	var req addRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	if req.Messages == nil {
		s.writeJSON(w, http.StatusUnprocessableEntity, missingField("messages"))
		return
	}
	if req.filter().empty() {
		s.writeError(w, http.StatusBadRequest, ossMissingID)
		return
	}
	type result struct {
		ID     string `json:"id"`
		Memory string `json:"memory"`
		Event  string `json:"event"`
	}
	out := ossResults[result]{Results: []result{}}
	s.mu.Lock()
	at := now()
	for _, text := range req.contents() {
		m := s.st.add(req.filter(), text, req.Metadata, at)
		out.Results = append(out.Results, result{ID: m.ID, Memory: m.Memory, Event: "ADD"})
	}
	s.mu.Unlock()
	s.runAfterAdd()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) ossList(w http.ResponseWriter, r *http.Request) {
	f := queryFilter(r)
	if f.empty() {
		s.writeError(w, http.StatusBadRequest, ossMissingID)
		return
	}
	out := ossResults[ossItem]{Results: []ossItem{}}
	s.mu.Lock()
	for _, m := range s.st.list(f) {
		out.Results = append(out.Results, newOSSItem(m, nil))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

// ossGet answers 200 null for a missing memory, as older servers do.
func (s *Server) ossGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.get(r.PathValue("id"))
	if m == nil {
		s.writeJSON(w, http.StatusOK, nil)
		return
	}
	s.writeJSON(w, http.StatusOK, newOSSItem(m, nil))
}

func (s *Server) ossUpdate(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	if req.Text == nil {
		s.writeJSON(w, http.StatusUnprocessableEntity, missingField("text"))
		return
	}
	// Like mem0's open-source Memory.update, the metadata sent replaces the memory's:
	// an update without metadata leaves it with none.
	metadata := req.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	s.mu.Lock()
	m := s.st.update(r.PathValue("id"), *req.Text, metadata, now())
	s.mu.Unlock()
	if m == nil {
		s.writeError(w, http.StatusNotFound, "Memory not found")
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Memory updated successfully!"})
}

func (s *Server) ossDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.st.delete(r.PathValue("id"), now())
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "Memory not found")
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Memory deleted successfully"})
}

func (s *Server) ossDeleteAll(w http.ResponseWriter, r *http.Request) {
	f := queryFilter(r)
	if f.empty() {
		s.writeError(w, http.StatusBadRequest, ossMissingID)
		return
	}
	s.mu.Lock()
	s.st.deleteAll(f, now())
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "All relevant memories deleted"})
}

func (s *Server) ossHistory(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID        string  `json:"id"`
		MemoryID  string  `json:"memory_id"`
		OldMemory *string `json:"old_memory"`
		NewMemory *string `json:"new_memory"`
		Event     string  `json:"event"`
		CreatedAt string  `json:"created_at"`
		UpdatedAt *string `json:"updated_at"`
		IsDeleted bool    `json:"is_deleted"`
	}
	out := []entry{}
	s.mu.Lock()
	for _, h := range s.st.history[r.PathValue("id")] {
		out = append(out, entry{
			ID: h.ID, MemoryID: h.MemoryID, OldMemory: nullable(h.OldMemory), NewMemory: nullable(h.NewMemory),
			Event: h.Event, CreatedAt: timestamp(h.CreatedAt), IsDeleted: h.Event == "DELETE",
		})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) ossSearch(w http.ResponseWriter, r *http.Request) {
	var req searchRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	if req.Query == nil {
		s.writeJSON(w, http.StatusUnprocessableEntity, missingField("query"))
		return
	}
	f := req.filter()
	if f.empty() {
		s.writeError(w, http.StatusBadRequest, ossMissingID)
		return
	}
	out := ossResults[ossItem]{Results: []ossItem{}}
	s.mu.Lock()
	limit := req.limit(100)
	if s.ignoreLimit {
		limit = 0
	}
	for _, hit := range s.st.search(*req.Query, f, limit, s.scorer) {
		out.Results = append(out.Results, newOSSItem(hit.StoredMemory, ptr(hit.Score)))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

// missingField is FastAPI's 422 answer for a required field left out.
func missingField(name string) map[string]any {
	return map[string]any{"detail": []map[string]any{{"type": "missing", "loc": []string{"body", name}, "msg": "Field required"}}}
}

func queryFilter(r *http.Request) filter {
	q := r.URL.Query()
	return filter{UserID: q.Get("user_id"), AgentID: q.Get("agent_id"), RunID: q.Get("run_id")}
}
