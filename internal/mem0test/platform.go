package mem0test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The platform flavor: mem0's hosted API as its OpenAPI document (docs/openapi.json)
// and docs/platform describe it, called the way mem0/client/main.py calls it. The v3
// routes are current; the v1 add, list and search and the v2 search are deprecated and
// kept for old clients (SetRejectDeprecated answers them 410).

const platformMissingID = "At least one of the filters: agent_id, user_id, app_id, run_id is required!"

// platformHandler maps the document's operationId to the fake's handler.
func (s *Server) platformHandler(operationID string) http.Handler {
	handlers := map[string]http.HandlerFunc{
		"memories_add_v3":       s.platformAddV3,
		"memories_list_v3":      s.platformListV3,
		"memories_search_v3":    s.platformSearchV3,
		"event_read":            s.platformEvent,
		"memories_read":         s.platformGet,
		"memories_update":       s.platformUpdate,
		"memories_delete":       s.platformDelete,
		"memories_history_list": s.platformHistory,
		"memories_delete_all":   s.platformDeleteAll,
		"memories_create":       s.platformAddV1,
		"memories_list":         s.platformListV1,
		"memories_search_create": func(w http.ResponseWriter, r *http.Request) {
			s.platformSearchOld(w, r, false)
		},
		"memories_search_v2": func(w http.ResponseWriter, r *http.Request) {
			s.platformSearchOld(w, r, true)
		},
	}
	if h, ok := handlers[operationID]; ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.notModelled(w, r, "operation "+operationID)
	})
}

// entityIDs are a memory's scope on the platform.
type entityIDs struct{ user, agent, app, run string }

func (e entityIDs) empty() bool { return e == entityIDs{} }

func (e entityIDs) put(p map[string]any) {
	for k, v := range map[string]string{"user_id": e.user, "agent_id": e.agent, "app_id": e.app, "run_id": e.run} {
		if v != "" {
			p[k] = v
		}
	}
}

func idsOf(p map[string]any) entityIDs {
	return entityIDs{payloadString(p, "user_id"), payloadString(p, "agent_id"), payloadString(p, "app_id"), payloadString(p, "run_id")}
}

// attributed is the scope an inferred memory gets: "each extracted fact is attributed
// to its speaker, so it carries user_id or agent_id, not both"
// (docs/platform/features/v2-memory-filters.mdx).
func (e entityIDs) attributed(speaker string) entityIDs {
	if e.user != "" && e.agent != "" {
		if speaker == "assistant" {
			e.user = ""
		} else {
			e.agent = ""
		}
	}
	return e
}

// readJSONObject reads a body the document has already validated.
func readJSONObject(r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return map[string]any{}, nil
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body is not a JSON object")
	}
	return m, nil
}

func (s *Server) platformBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	body, err := readJSONObject(r)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return nil, false
	}
	return body, true
}

// platformIDs reads entity ids, trimmed and checked like _validate_and_trim_entity_id;
// an empty string counts as not given.
func platformIDs(get func(string) (string, bool)) (entityIDs, error) {
	var e entityIDs
	for _, f := range []struct {
		key string
		dst *string
	}{{"user_id", &e.user}, {"agent_id", &e.agent}, {"app_id", &e.app}, {"run_id", &e.run}} {
		v, ok := get(f.key)
		if !ok || v == "" {
			continue
		}
		id, err := validateEntityID(v, f.key)
		if err != nil {
			return e, err
		}
		*f.dst = id
	}
	return e, nil
}

func bodyString(body map[string]any) func(string) (string, bool) {
	return func(k string) (string, bool) { s, ok := body[k].(string); return s, ok }
}

// addInput is an add request of either version.
type addInput struct {
	messages   []message
	ids        entityIDs
	metadata   map[string]any // nil when none was sent
	expiration *string
	infer      bool
	createdAt  time.Time
}

func (s *Server) readAdd(w http.ResponseWriter, r *http.Request) (addInput, map[string]any, bool) {
	body, ok := s.platformBody(w, r)
	if !ok {
		return addInput{}, nil, false
	}
	in := addInput{infer: true, createdAt: time.Now()}
	list, _ := body["messages"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		role, _ := m["role"].(string)
		content, _ := m["content"].(string)
		in.messages = append(in.messages, message{Role: role, Content: content})
	}
	var err error
	if in.ids, err = platformIDs(bodyString(body)); err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return in, nil, false
	}
	if in.ids.empty() {
		s.writeError(w, http.StatusBadRequest, platformMissingID)
		return in, nil, false
	}
	if md, ok := body["metadata"].(map[string]any); ok {
		in.metadata = stripIdentityKeys(md)
	}
	if exp, ok := body["expiration_date"].(string); ok {
		in.expiration = &exp
	}
	if infer, ok := body["infer"].(bool); ok {
		in.infer = infer
	}
	if ts, ok := body["timestamp"].(json.Number); ok { // backdates created_at
		if secs, err := ts.Int64(); err == nil {
			in.createdAt = time.Unix(secs, 0)
		}
	}
	return in, body, true
}

// platformAddV3 is POST /v3/memories/add/. With inference (the default) it answers a
// PENDING event and stores in the background; with infer=false ("direct import",
// docs/platform/features/direct-import.mdx) it stores every user and assistant message
// verbatim at once, under every entity id given, skipping exact repeats in the scope.
func (s *Server) platformAddV3(w http.ResponseWriter, r *http.Request) {
	in, body, ok := s.readAdd(w, r)
	if !ok {
		return
	}
	if !in.infer {
		s.mu.Lock()
		results := s.platformImport(in)
		ev := s.newEvent("ADD", body)
		completeEvent(ev, results)
		s.mu.Unlock()
		if len(results) > 0 {
			s.runAfterAdd()
		}
		s.writeJSON(w, http.StatusOK, map[string]any{
			"message": "Memories stored successfully", "status": eventSucceeded, "event_id": ev.id, "results": results,
		})
		return
	}
	s.mu.Lock()
	ev := s.newEvent("ADD", body)
	s.mu.Unlock()
	s.runEvent(ev, func() []any { return s.platformInfer(in) }, true)
	s.writeJSON(w, http.StatusOK, map[string]any{"status": eventPending, "event_id": ev.id})
}

// platformAddV1 is the deprecated POST /v1/memories/: the same processing, answered
// with the v1 event list.
func (s *Server) platformAddV1(w http.ResponseWriter, r *http.Request) {
	in, body, ok := s.readAdd(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	ev := s.newEvent("ADD", body)
	var results []any
	if !in.infer {
		results = s.platformImport(in)
		completeEvent(ev, results)
	}
	s.mu.Unlock()
	answer := map[string]any{"message": "Memory processing has been queued for background execution", "status": eventPending, "event_id": ev.id}
	if in.infer {
		s.runEvent(ev, func() []any { return s.platformInfer(in) }, true)
	} else {
		if len(results) > 0 {
			s.runAfterAdd()
		}
		answer["message"], answer["status"] = "Memories stored successfully", eventSucceeded
	}
	s.writeJSON(w, http.StatusOK, []any{answer})
}

// platformImport stores an infer=false add. Expects s.mu held.
func (s *Server) platformImport(in addInput) []any {
	results := []any{}
	for _, m := range in.messages {
		if m.Role == "system" {
			continue
		}
		if s.platformDuplicate(m.Content, in.ids) {
			continue
		}
		rec := s.platformCreate(m.Content, in, in.ids, []message{m})
		results = append(results, map[string]any{"id": rec.id, "data": map[string]any{"memory": m.Content}, "event": "ADD"})
	}
	return results
}

// platformInfer stores an inferred add when its event runs. Expects s.mu held.
func (s *Server) platformInfer(in addInput) []any {
	results := []any{}
	facts, speaker := s.extractFacts(in.messages)
	ids := in.ids.attributed(speaker)
	var input []message
	for _, m := range in.messages {
		if m.Role == "user" || m.Role == "assistant" {
			input = append(input, m)
		}
	}
	for _, text := range facts {
		if s.platformDuplicate(text, ids) {
			continue
		}
		rec := s.platformCreate(text, in, ids, input)
		results = append(results, map[string]any{
			"id": rec.id, "event": "ADD", "user_id": nullString(ids.user), "data": map[string]any{"memory": text},
		})
	}
	return results
}

// platformDuplicate: "Exact repeats in the same scope are deduplicated by an exact hash
// of the text" (direct-import.mdx); the v3 extraction skips hash matches the same way
// (mem0/memory/main.py, 2.0.18). Expects s.mu held.
func (s *Server) platformDuplicate(text string, ids entityIDs) bool {
	h := md5Hex(text)
	for _, rec := range s.st.ordered {
		if payloadString(rec.payload, "hash") == h && idsOf(rec.payload) == ids {
			return true
		}
	}
	return false
}

// platformCreate stores one memory. Expects s.mu held.
func (s *Server) platformCreate(text string, in addInput, ids entityIDs, input []message) *record {
	at := platformTime(in.createdAt)
	p := map[string]any{"data": text, "hash": md5Hex(text), "categories": []any{}, "created_at": at, "updated_at": at}
	ids.put(p)
	if in.metadata != nil {
		p["metadata"] = deepCopy(in.metadata)
	}
	if in.expiration != nil {
		p["expiration_date"] = *in.expiration
	}
	rec := s.st.insert(uuid.NewString(), p)
	now := platformTime(time.Now())
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: rec.id, new: ptr(text), event: "ADD", userID: ids.user,
		createdAt: &now, updatedAt: &now, input: input,
	})
	return rec
}

// platformItem is a memory as the platform answers it. The v3 list and the single
// memory routes name the run "session_id"; the searches name it "run_id".
func platformItem(rec *record, runKey string) map[string]any {
	p := rec.payload
	item := map[string]any{
		"id": rec.id, "memory": rec.text(),
		"user_id": nullString(payloadString(p, "user_id")), "agent_id": nullString(payloadString(p, "agent_id")),
		"app_id": nullString(payloadString(p, "app_id")), runKey: nullString(payloadString(p, "run_id")),
		"metadata": deepCopy(p["metadata"]), "categories": deepCopy(p["categories"]),
		"created_at": p["created_at"], "updated_at": p["updated_at"],
		"expiration_date": nullString(payloadString(p, "expiration_date")),
	}
	if item["categories"] == nil {
		item["categories"] = []any{}
	}
	return item
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rejectTopLevelIDs: "Top-level user_id / agent_id / run_id are rejected with 400"
// (docs/openapi.json, memories_list_v3 and memories_search_v3).
func (s *Server) rejectTopLevelIDs(w http.ResponseWriter, body map[string]any) bool {
	for _, k := range platformIDKey {
		if _, ok := body[k]; ok {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Top-level entity parameter %s is not supported; pass it inside filters.", k))
			return true
		}
	}
	return false
}

// platformFilter parses the filters of a v3 call, which must scope an entity.
func (s *Server) platformFilter(w http.ResponseWriter, r *http.Request, filters map[string]any, search bool) (pmatch, bool) {
	match, err := filterParser{search: search}.parse(filters)
	if err != nil {
		var fe *filterError
		if errors.As(err, &fe) && fe.notModelled {
			s.notModelled(w, r, fe.msg)
			return nil, false
		}
		status := http.StatusBadRequest
		if fe != nil {
			status = fe.status
		}
		s.writeError(w, status, err.Error())
		return nil, false
	}
	if !platformScoped(filters) {
		s.writeError(w, http.StatusBadRequest, platformMissingID)
		return nil, false
	}
	return match, true
}

// visible hides expired memories unless show_expired is true.
func visible(body map[string]any) func(*record) bool {
	show, _ := body["show_expired"].(bool)
	return func(r *record) bool { return show || !payloadIsExpired(r.payload) }
}

// platformListV3 is POST /v3/memories/: the memories the filters match, in the store's
// order (not by date), one page of the envelope {count, next, previous, results}.
func (s *Server) platformListV3(w http.ResponseWriter, r *http.Request) {
	body, ok := s.platformBody(w, r)
	if !ok || s.rejectTopLevelIDs(w, body) {
		return
	}
	for _, k := range []string{"fields", "keywords", "start_date", "end_date"} {
		if _, ok := body[k]; ok {
			s.notModelled(w, r, "the "+k+" parameter of the v3 list")
			return
		}
	}
	page, size, ok := s.pageParams(w, r, body)
	if !ok {
		return
	}
	filters, _ := body["filters"].(map[string]any)
	match, ok := s.platformFilter(w, r, filters, false)
	if !ok {
		return
	}
	show := visible(body)
	s.mu.Lock()
	recs := s.st.scan(-1, func(rec *record) bool { return match(rec) && show(rec) })
	if cats, ok := body["categories"].([]any); ok && len(cats) > 0 {
		recs = nil // the fake's memories have no categories
	}
	items := make([]any, len(recs))
	for i, rec := range recs {
		items[i] = platformItem(rec, "session_id")
	}
	s.mu.Unlock()
	s.writePage(w, r, items, page, size)
}

// pageParams reads page and page_size: query parameters first, then the body (the
// document accepts both; the query wins). Defaults 1 and 100, page_size at most 200.
func (s *Server) pageParams(w http.ResponseWriter, r *http.Request, body map[string]any) (int, int, bool) {
	read := func(key string, def, maxValue int) (int, bool) {
		if v := r.URL.Query().Get(key); v != "" {
			n, err := strconv.Atoi(v)
			return n, err == nil && n >= 1 && n <= maxValue
		}
		if v, ok := body[key]; ok {
			n, isInt := laxInt(v)
			return n, isInt && n >= 1 && n <= maxValue
		}
		return def, true
	}
	page, ok1 := read("page", 1, 1<<30)
	size, ok2 := read("page_size", 100, 200)
	if !ok1 || !ok2 {
		s.writeError(w, http.StatusBadRequest, "page must be at least 1 and page_size between 1 and 200")
		return 0, 0, false
	}
	return page, size, true
}

// writePage answers one page of items as Django REST framework's PageNumberPagination
// does (the envelope is its): absolute next and previous links, null at the ends, and
// 404 "Invalid page." for a page past the last one.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, items []any, page, size int) {
	pages := max((len(items)+size-1)/size, 1)
	if page > pages {
		s.writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Invalid page."})
		return
	}
	link := func(p int) any {
		if p < 1 || p > pages {
			return nil
		}
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("page_size", strconv.Itoa(size))
		return s.URL() + r.URL.Path + "?" + q.Encode()
	}
	from := (page - 1) * size
	to := min(from+size, len(items))
	s.writeJSON(w, http.StatusOK, map[string]any{
		"count": len(items), "next": link(page + 1), "previous": link(page - 1), "results": items[from:to],
	})
}

// platformSearchV3 is POST /v3/memories/search/: top_k 1..1000 (default 10), threshold
// 0..1 (default 0.1) gating the semantic score, hybrid scoring; rerank is accepted and
// changes nothing here.
func (s *Server) platformSearchV3(w http.ResponseWriter, r *http.Request) {
	body, ok := s.platformBody(w, r)
	if !ok || s.rejectTopLevelIDs(w, body) {
		return
	}
	if _, ok := body["fields"]; ok {
		s.notModelled(w, r, "the fields parameter of the v3 search")
		return
	}
	query, _ := body["query"].(string)
	if strings.TrimSpace(query) == "" {
		s.writeError(w, http.StatusBadRequest, "Invalid query: cannot be empty or whitespace-only.")
		return
	}
	filters, _ := body["filters"].(map[string]any)
	match, ok := s.platformFilter(w, r, filters, true)
	if !ok {
		return
	}
	if md, ok := body["metadata"].(map[string]any); ok { // "Filter results to memories matching this metadata."
		extra, err := metadataCondition(md)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		match = allOf([]pmatch{match, extra})
	}
	p := searchParams{query: strings.TrimSpace(query), topK: 10, threshold: 0.1, hybrid: true}
	if n, ok := laxInt(body["top_k"]); ok {
		p.topK = n
	}
	if f, ok := body["threshold"].(json.Number); ok {
		p.threshold, _ = f.Float64()
	}
	show := visible(body)
	p.skip = func(rec *record) bool { return !show(rec) }
	cats, _ := body["categories"].([]any)
	s.mu.Lock()
	p.scorer = s.scorer
	items := []any{}
	if len(cats) == 0 { // the fake's memories have no categories
		for _, h := range rank(s.st.scan(-1, match), p) {
			item := platformItem(h.rec, "run_id")
			item["score"] = h.score
			items = append(items, item)
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"results": items})
}

// platformGet is GET /v1/memories/{memory_id}/.
func (s *Server) platformGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.get(r.PathValue("memory_id"))
	if rec == nil {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	s.writeJSON(w, http.StatusOK, platformItem(rec, "session_id"))
}

// platformUpdate is PUT /v1/memories/{memory_id}/: text, metadata (merged into the
// memory's) and expiration_date; it answers the updated memory.
func (s *Server) platformUpdate(w http.ResponseWriter, r *http.Request) {
	body, ok := s.platformBody(w, r)
	if !ok {
		return
	}
	text, hasText := body["text"].(string)
	md, hasMetadata := body["metadata"].(map[string]any)
	exp, hasExp := body["expiration_date"]
	if !hasText && !hasMetadata && !hasExp {
		s.writeError(w, http.StatusBadRequest, "At least one of text, metadata, or expiration_date must be provided.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.get(r.PathValue("memory_id"))
	if rec == nil {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	p := clonePayload(rec.payload)
	old := rec.text()
	if hasText {
		p["data"], p["hash"] = text, md5Hex(text)
	}
	if hasMetadata {
		merged, _ := p["metadata"].(map[string]any)
		if merged == nil {
			merged = map[string]any{}
		}
		for k, v := range stripIdentityKeys(md) {
			merged[k] = v
		}
		p["metadata"] = merged
	}
	if hasExp {
		delete(p, "expiration_date")
		if e, ok := exp.(string); ok {
			p["expiration_date"] = e
		}
	}
	now := time.Now()
	p["updated_at"] = platformTime(now)
	rec.payload = p
	at := platformTime(now)
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: rec.id, old: &old, new: ptr(rec.text()), event: "UPDATE",
		userID: payloadString(p, "user_id"), createdAt: &at, updatedAt: &at,
	})
	s.writeJSON(w, http.StatusOK, platformItem(rec, "session_id"))
}

// platformDelete is DELETE /v1/memories/{memory_id}/: 200 with a message.
func (s *Server) platformDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	found := s.platformDeleteLocked(r.PathValue("memory_id"))
	s.mu.Unlock()
	if !found {
		s.writeError(w, http.StatusNotFound, "Memory not found!")
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Memory deleted successfully!"})
}

// platformDeleteLocked expects s.mu held.
func (s *Server) platformDeleteLocked(id string) bool {
	rec := s.st.remove(id)
	if rec == nil {
		return false
	}
	at := platformTime(time.Now())
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: id, old: ptr(rec.text()), event: "DELETE", isDeleted: true,
		userID: payloadString(rec.payload, "user_id"), createdAt: &at, updatedAt: &at,
	})
	return true
}

// platformDeleteAll is DELETE /v1/memories/?user_id=...: at least one filter, "*" for
// any value; it answers at once and deletes in the background (an event, after the
// event delay), as the document's "Delete in progress" says.
func (s *Server) platformDeleteAll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var parts []pmatch
	payload := map[string]any{}
	for _, k := range platformIDKey {
		v := q.Get(k)
		if v == "" {
			continue
		}
		if v != "*" {
			id, err := validateEntityID(v, k)
			if err != nil {
				s.writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			v = id
		}
		c, _ := entityCondition(k, v)
		parts = append(parts, c)
		payload[k] = v
	}
	metadata := map[string]any{}
	for key, vs := range q {
		if name, ok := strings.CutPrefix(key, "metadata["); ok && strings.HasSuffix(name, "]") && len(vs) > 0 {
			metadata[strings.TrimSuffix(name, "]")] = vs[len(vs)-1]
		}
	}
	if len(metadata) > 0 {
		c, _ := metadataCondition(metadata)
		parts = append(parts, c)
		payload["metadata"] = metadata
	}
	if len(parts) == 0 {
		s.writeError(w, http.StatusBadRequest, "At least one filter is required to delete memories.")
		return
	}
	match := allOf(parts)
	s.mu.Lock()
	ev := s.newEvent("DELETE", payload)
	s.mu.Unlock()
	s.runEvent(ev, func() []any {
		for _, rec := range s.st.scan(-1, match) {
			s.platformDeleteLocked(rec.id)
		}
		return []any{}
	}, false)
	s.writeJSON(w, http.StatusOK, map[string]any{"message": "Delete in progress. This may take some time.", "event_id": ev.id})
}

// platformHistory is GET /v1/memories/{memory_id}/history/.
func (s *Server) platformHistory(w http.ResponseWriter, r *http.Request) {
	out := []any{}
	s.mu.Lock()
	rec := s.st.get(r.PathValue("memory_id"))
	for _, h := range s.st.historyOf(r.PathValue("memory_id")) {
		input := []any{}
		for _, m := range h.input {
			input = append(input, map[string]any{"role": m.Role, "content": m.Content})
		}
		entry := map[string]any{
			"id": h.id, "memory_id": h.memoryID, "input": input, "old_memory": h.old, "new_memory": h.new,
			"user_id": nullString(h.userID), "event": h.event, "metadata": nil, "categories": []any{},
			"created_at": h.createdAt, "updated_at": h.updatedAt,
		}
		if rec != nil {
			entry["agent_id"] = nullString(payloadString(rec.payload, "agent_id"))
			entry["app_id"] = nullString(payloadString(rec.payload, "app_id"))
			entry["session_id"] = nullString(payloadString(rec.payload, "run_id"))
		}
		out = append(out, entry)
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

// platformListV1 is the deprecated GET /v1/memories/: entity ids as query parameters
// (all must match), a bare list, or the paged envelope when page or page_size is given.
// The document gives limit a maximum of 200 and no default; the fake answers at most
// 100, the page size of the other lists.
func (s *Server) platformListV1(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match, ok := s.v1Scope(w, func(k string) (string, bool) { return q.Get(k), q.Has(k) })
	if !ok {
		return
	}
	s.mu.Lock()
	var items []any
	for _, rec := range s.st.scan(-1, match) {
		if !payloadIsExpired(rec.payload) {
			items = append(items, platformItem(rec, "run_id"))
		}
	}
	s.mu.Unlock()
	if q.Has("page") || q.Has("page_size") {
		page, size, ok := s.pageParams(w, r, nil)
		if ok {
			s.writePage(w, r, append([]any{}, items...), page, size)
		}
		return
	}
	limit := 100
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = n
	}
	if len(items) > limit {
		items = items[:limit]
	}
	s.writeJSON(w, http.StatusOK, append([]any{}, items...))
}

// v1Scope reads the entity ids of a v1 route, answering 400 when one is bad
// or none is given: the v1 routes match every entity id given.
func (s *Server) v1Scope(w http.ResponseWriter, get func(string) (string, bool)) (pmatch, bool) {
	ids, err := platformIDs(get)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if ids.empty() {
		s.writeError(w, http.StatusBadRequest, platformMissingID)
		return nil, false
	}
	return func(r *record) bool {
		have := idsOf(r.payload)
		return (ids.user == "" || have.user == ids.user) && (ids.agent == "" || have.agent == ids.agent) &&
			(ids.app == "" || have.app == ids.app) && (ids.run == "" || have.run == ids.run)
	}, true
}

// platformSearchOld is the deprecated POST /v1/memories/search/ (top-level ids, no
// threshold) and POST /v2/memories/search/ (filters, threshold 0.3 by the document's
// default). Both ranked by semantic similarity only ("Retrieval: Semantic (vector)
// only" before v3, docs/migration/platform-v2-to-v3.mdx), top_k 10 by default.
func (s *Server) platformSearchOld(w http.ResponseWriter, r *http.Request, v2 bool) {
	body, ok := s.platformBody(w, r)
	if !ok {
		return
	}
	query, _ := body["query"].(string)
	p := searchParams{query: query, topK: 10, skip: func(rec *record) bool { return payloadIsExpired(rec.payload) }}
	if n, ok := laxInt(body["top_k"]); ok {
		p.topK = n
	}
	var match pmatch
	if v2 {
		p.threshold = 0.3
		if f, ok := body["threshold"].(json.Number); ok {
			p.threshold, _ = f.Float64()
		}
		filters, _ := body["filters"].(map[string]any)
		if match, ok = s.platformFilter(w, r, filters, true); !ok {
			return
		}
	} else {
		if match, ok = s.v1Scope(w, bodyString(body)); !ok {
			return
		}
		if md, ok := body["metadata"].(map[string]any); ok {
			extra, err := metadataCondition(md)
			if err != nil {
				s.writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			match = allOf([]pmatch{match, extra})
		}
	}
	s.mu.Lock()
	p.scorer = s.scorer
	items := []any{}
	for _, h := range rank(s.st.scan(-1, match), p) {
		item := platformItem(h.rec, "run_id")
		if v2 {
			item["session_id"] = item["run_id"]
		}
		item["score"] = h.score
		items = append(items, item)
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, items)
}
