package mem0test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The open-source flavor: mem0's REST server, server/main.py of mem0ai/mem0 at 8d5b786,
// over the library of the same commit (mem0/memory/main.py, package 2.0.18) with its
// default vector store, pgvector. Errors are FastAPI's {"detail": ...}.

const ossMissingID = "At least one identifier (user_id, agent_id, run_id) is required."

func (s *Server) ossRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /memories", s.ossAdd)
	mux.HandleFunc("GET /memories", s.ossList)
	mux.HandleFunc("DELETE /memories", s.ossDeleteAll)
	mux.HandleFunc("GET /memories/{id}", s.ossGet)
	mux.HandleFunc("PUT /memories/{id}", s.ossUpdate)
	mux.HandleFunc("DELETE /memories/{id}", s.ossDelete)
	mux.HandleFunc("GET /memories/{id}/history", s.ossHistory)
	mux.HandleFunc("POST /search", s.ossSearch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// FastAPI with redirect_slashes=False: "/memories/" is as unknown as "/v1/memories/".
		s.t.Errorf("mem0test: %s %s: no such route in mem0's server/main.py", r.Method, r.URL.RequestURI())
		s.writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return mux
}

// ossCaller is who server/auth.py's verify_auth resolved the request to.
type ossCaller struct {
	admin    bool
	authType string // bearer, api_key, admin_api_key or disabled
}

type ossCallerKey struct{}

func callerOf(r *http.Request) ossCaller {
	c, _ := r.Context().Value(ossCallerKey{}).(ossCaller)
	return c
}

// ossAuthenticate is verify_auth of server/auth.py: a Bearer credential is a JWT and
// nothing else; an X-API-Key is ADMIN_API_KEY or a per-user key, refused when it is
// neither, even with AUTH_DISABLED; no credential passes only with AUTH_DISABLED, which
// the fake runs with until a key or token is set.
func (s *Server) ossAuthenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	s.mu.Lock()
	userKey, adminKey, token := s.apiKey, s.adminKey, s.bearerToken
	s.mu.Unlock()
	disabled := userKey == "" && adminKey == "" && token == ""

	refuse := func(detail string) (*http.Request, bool) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		s.writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": detail})
		return r, false
	}
	var caller ossCaller
	scheme, credentials, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	xKey := r.Header.Get("X-API-Key")
	switch {
	case strings.EqualFold(scheme, "bearer") && credentials != "": // fastapi's HTTPBearer
		if token == "" || credentials != token {
			return refuse("Invalid or expired token.")
		}
		caller = ossCaller{authType: "bearer"}
	case xKey != "":
		switch {
		case adminKey != "" && xKey == adminKey:
			caller = ossCaller{admin: true, authType: "admin_api_key"}
		case userKey != "" && xKey == userKey:
			caller = ossCaller{authType: "api_key"}
		default:
			return refuse("Invalid API key.")
		}
	case disabled:
		caller = ossCaller{admin: true, authType: "disabled"}
	default:
		return refuse("Authentication required. Provide a Bearer token or X-API-Key header.")
	}
	return r.WithContext(context.WithValue(r.Context(), ossCallerKey{}, caller)), true
}

func (s *Server) ossDetail(w http.ResponseWriter, status int, detail any) {
	s.writeJSON(w, status, map[string]any{"detail": detail})
}

// ossUpstream is server/errors.py's upstream_error: a 502 for anything that is not a
// client error. The database's own errors classify as "unknown".
func (s *Server) ossUpstream(w http.ResponseWriter) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.writeJSON(w, http.StatusBadGateway, map[string]string{
		"detail": "Upstream provider error.", "code": "unknown", "request_id": hex.EncodeToString(b[:]),
	})
}

// ossValueError answers a ValueError the way the route catching it does.
func (s *Server) ossValueError(w http.ResponseWriter, err error) {
	if errors.Is(err, errUpstream) {
		s.ossUpstream(w)
		return
	}
	status := http.StatusBadRequest // _client_error: "not found" is a 404, the rest 400
	if strings.Contains(strings.ToLower(err.Error()), "not found") {
		status = http.StatusNotFound
	}
	s.ossDetail(w, status, err.Error())
}

func (s *Server) readPyBody(w http.ResponseWriter, r *http.Request) *pyBody {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		b := &pyBody{}
		b.fail("json_invalid", []any{"body", 0}, "JSON decode error", nil)
		return b
	}
	return parsePyBody(data)
}

// ossMemoryID reads a memory id the way pgvector's "id UUID" column does: anything
// PostgreSQL cannot cast to uuid is a database error, which the server answers 502.
func ossMemoryID(raw string) (string, bool) {
	if strings.HasPrefix(strings.ToLower(raw), "urn:") {
		return "", false
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// ossAdd is POST /memories: add_memory of server/main.py and Memory.add.
func (s *Server) ossAdd(w http.ResponseWriter, r *http.Request) {
	b := s.readPyBody(w, r)
	msgs := b.messages("messages")
	ids := map[string]*string{}
	for _, k := range entityKeys {
		ids[k] = b.str(k, false)
	}
	md := b.object("metadata")
	exp := b.str("expiration_date", false)
	infer := b.boolean("infer")
	memoryType := b.str("memory_type", false)
	_ = b.str("prompt", false)
	if len(b.errs) > 0 {
		s.ossDetail(w, http.StatusUnprocessableEntity, b.errs)
		return
	}
	if deref(ids["user_id"]) == "" && deref(ids["agent_id"]) == "" && deref(ids["run_id"]) == "" {
		s.ossDetail(w, http.StatusBadRequest, ossMissingID)
		return
	}

	// Memory.add: expiration date, then _build_filters_and_metadata, then memory_type.
	meta := map[string]any{}
	if md != nil {
		meta = stripIdentityKeys(md)
	}
	var expiration string
	if exp != nil {
		var err error
		if expiration, err = normalizeExpirationDate(*exp); err != nil {
			s.ossValueError(w, err)
			return
		}
	}
	for _, k := range entityKeys {
		if ids[k] == nil {
			continue
		}
		id, err := validateEntityID(*ids[k], k)
		if err != nil {
			s.ossValueError(w, err)
			return
		}
		meta[k] = id
	}
	if exp != nil {
		meta["expiration_date"] = expiration
	}
	if memoryType != nil && *memoryType != "procedural_memory" {
		s.ossDetail(w, http.StatusBadRequest, "Invalid 'memory_type'. Please pass procedural_memory to create procedural memories.")
		return
	}
	if memoryType != nil && ids["agent_id"] != nil {
		s.notModelled(w, r, "a procedural memory (memory_type procedural_memory)")
		return
	}

	s.mu.Lock()
	var results []map[string]any
	if infer != nil && !*infer {
		results = s.ossStoreVerbatim(msgs, meta)
	} else {
		results = s.ossStoreInferred(msgs, meta)
	}
	s.mu.Unlock()
	if len(results) > 0 {
		s.runAfterAdd()
	}
	if results == nil {
		results = []map[string]any{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// ossStoreVerbatim is the infer=False branch of _add_to_vector_store: every message but
// the system's becomes one memory, its role added to the payload. Message has no "name"
// in server/main.py, so actor_id is always null. Expects s.mu held.
func (s *Server) ossStoreVerbatim(msgs []message, meta map[string]any) []map[string]any {
	var out []map[string]any
	now := time.Now()
	for _, m := range msgs {
		if m.Role == "system" {
			continue
		}
		p := clonePayload(meta)
		p["role"] = m.Role
		rec := s.ossCreate(m.Content, p, now)
		out = append(out, map[string]any{"id": rec.id, "memory": m.Content, "event": "ADD", "actor_id": nil, "role": m.Role})
	}
	return out
}

// ossCreate is _create_memory. Expects s.mu held.
func (s *Server) ossCreate(text string, p map[string]any, now time.Time) *record {
	p["data"] = text
	p["hash"] = md5Hex(text)
	if _, ok := p["created_at"]; !ok { // caller metadata may set it: mem0 keeps it
		p["created_at"] = pyISO(now)
	}
	p["updated_at"] = p["created_at"]
	p["text_lemmatized"] = text // lemmatize_for_bm25 without spaCy returns the text
	rec := s.st.insert(uuid.NewString(), p)
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: rec.id, new: ptr(text), event: "ADD",
		createdAt: textOrNil(p["created_at"]), updatedAt: textOrNil(p["updated_at"]),
		actorID: textOrNil(p["actor_id"]), role: textOrNil(p["role"]), userID: payloadString(p, "user_id"),
	})
	return rec
}

// ossStoreInferred is the v3 pipeline of _add_to_vector_store (ADD only), with the LLM
// simulated by extractFacts. A fact whose md5 matches one of the 10 memories of the
// scope closest to the conversation, or an earlier fact of the same add, is skipped:
// a repeated add may store nothing. Expects s.mu held.
func (s *Server) ossStoreInferred(msgs []message, meta map[string]any) []map[string]any {
	facts, speaker := s.extractFacts(msgs)
	if len(facts) == 0 {
		return nil
	}
	scope := map[string]any{}
	for _, k := range entityKeys {
		if v, ok := meta[k]; ok {
			scope[k] = v
		}
	}
	existing := map[string]bool{}
	for _, rec := range s.nearest(parseMessages(msgs), s.st.scan(-1, matchAll(scope)), 10) {
		existing[payloadString(rec.payload, "hash")] = true
	}
	var out []map[string]any
	now := time.Now()
	for _, text := range facts {
		h := md5Hex(text)
		if existing[h] {
			continue
		}
		existing[h] = true
		p := clonePayload(meta)
		p["data"] = text
		p["text_lemmatized"] = text
		p["hash"] = h
		if _, ok := p["created_at"]; !ok {
			p["created_at"] = pyISO(now)
		}
		p["updated_at"] = p["created_at"]
		p["attributed_to"] = speaker
		rec := s.st.insert(uuid.NewString(), p)
		// batch_add_history writes no updated_at, actor_id or role.
		s.st.addHistory(historyRow{
			id: uuid.NewString(), memoryID: rec.id, new: ptr(text), event: "ADD",
			createdAt: textOrNil(p["created_at"]), userID: payloadString(p, "user_id"),
		})
		out = append(out, map[string]any{"id": rec.id, "memory": text, "event": "ADD"})
	}
	return out
}

// extractFacts simulates the extraction LLM: it keeps what the user said as one fact
// (what the assistant said when the user said nothing), and SetInferredFacts decides
// how many facts come out. Expects s.mu held.
func (s *Server) extractFacts(msgs []message) (facts []string, speaker string) {
	var user, assistant []string
	for _, m := range msgs {
		text := strings.TrimSpace(m.Content)
		switch {
		case text == "":
		case m.Role == "user":
			user = append(user, text)
		case m.Role == "assistant":
			assistant = append(assistant, text)
		}
	}
	text, speaker := strings.Join(user, " "), "user"
	if text == "" {
		text, speaker = strings.Join(assistant, " "), "assistant"
	}
	if text == "" {
		return nil, ""
	}
	switch s.inferredFacts {
	case 0:
		return nil, speaker
	case 2:
		return []string{text, text + " (2)"}, speaker
	}
	return []string{text}, speaker
}

// parseMessages is parse_messages of mem0/memory/utils.py: the conversation as one text.
func parseMessages(msgs []message) string {
	var b strings.Builder
	for _, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
			b.WriteString(m.Role + ": " + m.Content + "\n")
		}
	}
	return b.String()
}

// nearest is the vector store's search without a threshold: the n memories
// semantically closest to query. Expects s.mu held.
func (s *Server) nearest(query string, recs []*record, n int) []*record {
	hits := rank(recs, searchParams{query: query, topK: n, scorer: s.scorer})
	out := make([]*record, len(hits))
	for i, h := range hits {
		out[i] = h.rec
	}
	return out
}

// matchAll matches the payloads holding every key/value of want.
func matchAll(want map[string]any) func(*record) bool {
	return func(r *record) bool {
		for k, v := range want {
			if r.payload[k] != v {
				return false
			}
		}
		return true
	}
}

// lastQuery is how Starlette reads a repeated query parameter: the last one wins.
func lastQuery(r *http.Request, key string) (string, bool) {
	vs, ok := r.URL.Query()[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// ossList is GET /memories: get_all_memories of server/main.py.
func (s *Server) ossList(w http.ResponseWriter, r *http.Request) {
	var errs []fieldError
	topK := -1
	if v, ok := lastQuery(r, "top_k"); ok {
		n, isInt := laxInt(v)
		switch {
		case !isInt:
			errs = append(errs, fieldError{"int_parsing", []any{"query", "top_k"}, "Input should be a valid integer, unable to parse string as an integer", v})
		case n < 0:
			errs = append(errs, fieldError{"greater_than_equal", []any{"query", "top_k"}, "Input should be greater than or equal to 0", v})
		case n > allMemoriesLimit:
			errs = append(errs, fieldError{"less_than_equal", []any{"query", "top_k"}, "Input should be less than or equal to 1000", v})
		default:
			topK = n
		}
	}
	showExpired := false
	if v, ok := lastQuery(r, "show_expired"); ok {
		b, isBool := queryBool(v)
		if !isBool {
			errs = append(errs, fieldError{"bool_parsing", []any{"query", "show_expired"}, "Input should be a valid boolean, unable to interpret input", v})
		}
		showExpired = b
	}
	if len(errs) > 0 {
		s.ossDetail(w, http.StatusUnprocessableEntity, errs)
		return
	}

	filters := map[string]any{}
	for _, k := range entityKeys {
		if v, _ := lastQuery(r, k); v != "" {
			filters[k] = v
		}
	}
	if len(filters) == 0 {
		if !callerOf(r).admin {
			s.ossDetail(w, http.StatusForbidden, "Admin role required to list all memories.")
			return
		}
		limit := allMemoriesLimit
		if topK >= 0 {
			limit = topK
		}
		s.ossListEverything(w, limit)
		return
	}

	// Memory.get_all: ids validated (a ValueError here reaches the route's generic
	// handler: 502), top_k 20 by default, the first top_k unexpired rows of the store.
	for k, v := range filters {
		id, err := validateEntityID(v, k)
		if err != nil {
			s.ossUpstream(w)
			return
		}
		filters[k] = id
	}
	if topK < 0 {
		topK = 20
	}
	fetch := topK
	if !showExpired {
		fetch = max(topK*4, 60)
	}
	out := []map[string]any{}
	s.mu.Lock()
	for _, rec := range s.st.scan(fetch, matchAll(filters)) {
		if !showExpired && payloadIsExpired(rec.payload) {
			continue
		}
		out = append(out, ossItem(rec, nil, false))
		if len(out) >= topK { // checked after appending, as mem0 does: top_k=0 gives one
			break
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// allMemoriesLimit is ALL_MEMORIES_LIMIT of server/main.py.
const allMemoriesLimit = 1000

// ossListEverything is _list_all_memories: the raw rows of the store, serialized by
// _serialize_memory (every non-reserved payload key lands in "metadata").
func (s *Server) ossListEverything(w http.ResponseWriter, limit int) {
	reserved := []string{"data", "user_id", "agent_id", "run_id", "hash", "created_at", "updated_at", "expiration_date"}
	out := []map[string]any{}
	s.mu.Lock()
	for _, rec := range s.st.scan(limit, nil) {
		p := rec.payload
		md := map[string]any{}
		for k, v := range p {
			if !slices.Contains(reserved, k) {
				md[k] = deepCopy(v)
			}
		}
		out = append(out, map[string]any{
			"id": rec.id, "memory": p["data"], "user_id": p["user_id"], "agent_id": p["agent_id"],
			"run_id": p["run_id"], "hash": p["hash"], "expiration_date": p["expiration_date"], "metadata": md,
			"created_at": p["created_at"], "updated_at": p["updated_at"],
		})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// ossItem is a MemoryItem as Memory.get, _get_all_from_vector_store and
// _search_vector_store build it: id, memory, hash, metadata (null unless the payload
// has keys beyond the core and promoted ones), created_at, updated_at, the promoted
// keys present, and score (null from get, absent from get_all, a number from search).
func ossItem(rec *record, score *float64, withNullScore bool) map[string]any {
	p := rec.payload
	item := map[string]any{
		"id": rec.id, "memory": rec.text(), "hash": p["hash"], "metadata": nil,
		"created_at": p["created_at"], "updated_at": p["updated_at"],
	}
	switch {
	case score != nil:
		item["score"] = *score
	case withNullScore:
		item["score"] = nil
	}
	for _, k := range promotedKeys {
		if v, ok := p[k]; ok {
			item[k] = deepCopy(v)
		}
	}
	if md := extraPayload(p); md != nil {
		item["metadata"] = md
	}
	return item
}

// ossGet is GET /memories/{id}: Memory.get, JSON null with 200 when missing.
func (s *Server) ossGet(w http.ResponseWriter, r *http.Request) {
	id, ok := ossMemoryID(r.PathValue("id"))
	if !ok {
		s.ossUpstream(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.get(id)
	if rec == nil {
		s.writeJSON(w, http.StatusOK, nil)
		return
	}
	s.writeJSON(w, http.StatusOK, ossItem(rec, nil, true))
}

// ossSearch is POST /search: search_memories of server/main.py and Memory.search.
func (s *Server) ossSearch(w http.ResponseWriter, r *http.Request) {
	b := s.readPyBody(w, r)
	query := b.str("query", true)
	top := map[string]*string{}
	for _, k := range entityKeys {
		top[k] = b.str(k, false)
	}
	filters := b.object("filters")
	topK := b.integer("top_k")
	threshold := b.number("threshold")
	explain := b.boolean("explain")
	showExpired := b.boolean("show_expired")
	if len(b.errs) > 0 {
		s.ossDetail(w, http.StatusUnprocessableEntity, b.errs)
		return
	}
	// Top-level ids are deprecated but still moved into filters.
	f := map[string]any{}
	for k, v := range filters {
		f[k] = v
	}
	for _, k := range entityKeys {
		if v := deref(top[k]); v != "" {
			f[k] = v
		}
	}

	// Memory.search: parameters, then the query, then the filters.
	p := searchParams{topK: 20, threshold: 0.1, hybrid: true}
	if threshold != nil {
		if *threshold < 0 || *threshold > 1 {
			s.ossValueError(w, errors.New("Invalid threshold: "+pyFloat(*threshold)+". Must be between 0 and 1 (inclusive)."))
			return
		}
		p.threshold = *threshold
	}
	if topK != nil {
		if *topK < 0 {
			s.ossValueError(w, errors.New("Invalid top_k: "+strconv.Itoa(*topK)+". Must be a non-negative integer."))
			return
		}
		p.topK = *topK
	}
	p.query = strings.TrimSpace(*query)
	if p.query == "" {
		s.ossValueError(w, errors.New("Invalid query: cannot be empty or whitespace-only."))
		return
	}
	eff, err := ossSearchFilters(f)
	if err != nil {
		s.ossValueError(w, err)
		return
	}
	where, err := buildPgFilter(eff)
	if err != nil {
		s.ossValueError(w, err)
		return
	}
	if showExpired == nil || !*showExpired {
		p.skip = func(r *record) bool { return payloadIsExpired(r.payload) }
	}

	s.mu.RLock() // a search changes nothing: searches run side by side
	p.scorer = s.scorer
	var candidates []*record
	var evalErr error
	for _, rec := range s.st.ordered {
		ok, err := where.match(rec.payload)
		if err != nil {
			evalErr = err
			break
		}
		if ok {
			candidates = append(candidates, rec)
		}
	}
	out := []map[string]any{}
	if evalErr == nil {
		for _, h := range rank(candidates, p) {
			if h.rec.text() == "" { // "Skip candidates with no payload data"
				continue
			}
			item := ossItem(h.rec, ptr(h.score), false)
			if explain != nil && *explain {
				item["score_details"] = map[string]any{
					"semantic_score": h.semantic, "bm25_score": h.keyword, "entity_boost": 0.0,
					"raw_score": h.semantic + h.keyword, "max_possible_score": h.maxPossible,
					"final_score": h.score, "threshold": p.threshold,
				}
			}
			out = append(out, item)
		}
	}
	s.mu.RUnlock()
	if evalErr != nil {
		s.ossUpstream(w)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// ossUpdate is PUT /memories/{id}: update_memory of server/main.py and Memory.update.
func (s *Server) ossUpdate(w http.ResponseWriter, r *http.Request) {
	b := s.readPyBody(w, r)
	text := b.str("text", false)
	md := b.object("metadata")
	exp := b.str("expiration_date", false)
	if len(b.errs) > 0 {
		s.ossDetail(w, http.StatusUnprocessableEntity, b.errs)
		return
	}
	expSet := b.set("expiration_date")
	if text == nil && md == nil && !expSet {
		s.ossValueError(w, errors.New("At least one of text, metadata, or expiration_date must be provided."))
		return
	}
	update := map[string]any(nil)
	if md != nil {
		update = stripIdentityKeys(md)
	}
	if expSet {
		if update == nil {
			update = map[string]any{}
		}
		update["expiration_date"] = nil
		if exp != nil {
			d, err := normalizeExpirationDate(*exp)
			if err != nil {
				s.ossValueError(w, err)
				return
			}
			update["expiration_date"] = d
		}
	}
	raw := r.PathValue("id")
	id, ok := ossMemoryID(raw)
	if !ok { // _update_memory re-raises the store's error: a 502
		s.ossUpstream(w)
		return
	}

	s.mu.Lock()
	rec := s.st.get(id)
	if rec == nil {
		s.mu.Unlock()
		s.ossValueError(w, errors.New("Memory with id "+raw+" not found. Please provide a valid 'memory_id'"))
		return
	}
	// _update_memory: the payload is kept and the metadata sent merged into it.
	p := clonePayload(rec.payload)
	prev := textOrNil(p["data"])
	data := deref(prev)
	if text != nil {
		data = *text
	}
	for k, v := range update {
		p[k] = v
	}
	p["data"] = data
	p["hash"] = md5Hex(data)
	p["text_lemmatized"] = data
	p["updated_at"] = pyISO(time.Now())
	rec.payload = p
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: id, old: prev, new: ptr(data), event: "UPDATE",
		createdAt: textOrNil(p["created_at"]), updatedAt: textOrNil(p["updated_at"]),
		actorID: textOrNil(p["actor_id"]), role: textOrNil(p["role"]), userID: payloadString(p, "user_id"),
	})
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Memory updated successfully!"})
}

// ossDelete is DELETE /memories/{id}: Memory.delete; a missing memory is a ValueError
// with "not found", which _client_error answers 404.
func (s *Server) ossDelete(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, ok := ossMemoryID(raw)
	if !ok {
		s.ossUpstream(w)
		return
	}
	s.mu.Lock()
	found := s.ossDeleteLocked(id)
	s.mu.Unlock()
	if !found {
		s.ossValueError(w, errors.New("Memory with id "+raw+" not found"))
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "Memory deleted successfully"})
}

// ossDeleteLocked is _delete_memory. Expects s.mu held.
func (s *Server) ossDeleteLocked(id string) bool {
	rec := s.st.remove(id)
	if rec == nil {
		return false
	}
	p := rec.payload
	created := textOrNil(p["created_at"])
	if created != nil {
		if t := parseTimestamp(*created); !t.IsZero() {
			created = ptr(pyISO(t)) // _normalize_iso_timestamp_to_utc
		}
	}
	s.st.addHistory(historyRow{
		id: uuid.NewString(), memoryID: id, old: ptr(rec.text()), event: "DELETE",
		createdAt: created, updatedAt: ptr(pyISO(time.Now())), isDeleted: true,
		actorID: textOrNil(p["actor_id"]), role: textOrNil(p["role"]), userID: payloadString(p, "user_id"),
	})
	return true
}

// ossDeleteAll is DELETE /memories: admin only (require_admin), at least one id, and
// Memory.delete_all, which lists the scope 1000 at a time and deletes until it is empty.
func (s *Server) ossDeleteAll(w http.ResponseWriter, r *http.Request) {
	if !callerOf(r).admin {
		s.ossDetail(w, http.StatusForbidden, "Admin role required.")
		return
	}
	filters := map[string]any{}
	for _, k := range entityKeys {
		if v, _ := lastQuery(r, k); v != "" {
			filters[k] = v
		}
	}
	if len(filters) == 0 {
		s.ossDetail(w, http.StatusBadRequest, "At least one identifier is required.")
		return
	}
	for k, v := range filters {
		id, err := validateEntityID(v, k)
		if err != nil { // a ValueError inside delete_all reaches the generic handler
			s.ossUpstream(w)
			return
		}
		filters[k] = id
	}
	s.mu.Lock()
	if s.deleteAllCap > 0 {
		// Before mem0 PR #6636: one list() of the store's default size, then success.
		for _, rec := range s.st.scan(s.deleteAllCap, matchAll(filters)) {
			s.ossDeleteLocked(rec.id)
		}
	} else {
		for {
			batch := s.st.scan(1000, matchAll(filters)) // DELETE_ALL_BATCH_SIZE
			if len(batch) == 0 {
				break
			}
			for _, rec := range batch {
				s.ossDeleteLocked(rec.id)
			}
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]string{"message": "All relevant memories deleted"})
}

// ossHistory is GET /memories/{id}/history: the rows of SQLiteManager.get_history.
func (s *Server) ossHistory(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	s.mu.Lock()
	for _, h := range s.st.historyOf(r.PathValue("id")) {
		out = append(out, map[string]any{
			"id": h.id, "memory_id": h.memoryID, "old_memory": h.old, "new_memory": h.new, "event": h.event,
			"created_at": h.createdAt, "updated_at": h.updatedAt, "is_deleted": h.isDeleted,
			"actor_id": h.actorID, "role": h.role,
		})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, out)
}

// textOrNil is a payload value as the history table stores it: text, or NULL.
func textOrNil(v any) *string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return &x
	}
	return ptr(pyStr(v))
}
