package mem0test

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
)

// StoredMemory is one memory as the fake Memory Bank holds it.
type StoredMemory struct {
	ID     string
	Memory string
	Hash   string // md5 of Memory, as mem0 stores it
	// Entity ids; "" when the memory does not carry that id.
	UserID, AgentID, AppID, RunID string
	// Role, ActorID and AttributedTo are the keys mem0's open-source library promotes
	// out of the payload (role: infer=false adds; attributed_to: inferred adds).
	Role, ActorID, AttributedTo string
	// Metadata is the caller's metadata: the payload's other keys in the open-source
	// flavor (mem0 stores them flat), the "metadata" object in the platform flavor.
	Metadata       map[string]any
	ExpirationDate string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// HistoryEntry is one change of a memory, as the history routes list it.
type HistoryEntry struct {
	ID        string
	MemoryID  string
	OldMemory string // "" when there was none (ADD)
	NewMemory string // "" when there is none (DELETE)
	Event     string // ADD, UPDATE or DELETE
	UserID    string
	Role      string
	ActorID   string
	IsDeleted bool
	CreatedAt time.Time
	UpdatedAt time.Time // zero when mem0 writes none (inferred adds)
}

// Payload keys with a meaning of their own. mem0/memory/main.py (2.0.18) lists the same
// sets as core_and_promoted_keys in get, _get_all_from_vector_store and _search_vector_store.
var (
	entityKeys    = []string{"user_id", "agent_id", "run_id"}
	promotedKeys  = []string{"user_id", "agent_id", "run_id", "actor_id", "role", "attributed_to", "expiration_date"}
	corePayload   = []string{"data", "hash", "created_at", "updated_at", "id", "text_lemmatized", "attributed_to"}
	identityKeys  = []string{"user_id", "agent_id", "run_id", "actor_id"} // _IDENTITY_KEYS
	platformIDKey = []string{"user_id", "agent_id", "app_id", "run_id"}
)

// record is one memory as the vector store holds it: an id and a payload. The payload
// has mem0's keys (mem0/memory/main.py, 2.0.18, _create_memory): data, hash,
// text_lemmatized, created_at, updated_at, the entity ids given, and in the open-source
// flavor the caller's metadata keys flat beside them; the platform flavor nests the
// caller's metadata under "metadata".
type record struct {
	id      string
	seq     uint64 // insertion order; only Server.Memories uses it
	rank    uint64 // the vector store's order
	payload map[string]any
	// words are the text's words, counted once per text, not on every search;
	// searches share a read lock, so the first to need them stores them.
	words atomic.Pointer[wordCount]
}

func (r *record) text() string { return payloadString(r.payload, "data") }

// wordCount is a text's words and how often each occurs in it.
type wordCount struct {
	text  string
	count map[string]int
}

// wordCounts counts the record's words again only when its text changed.
// Concurrent searches may both count them: they count the same.
func (r *record) wordCounts() map[string]int {
	text := r.text()
	if w := r.words.Load(); w != nil && w.text == text {
		return w.count
	}
	w := &wordCount{text: text, count: countWords(text)}
	r.words.Store(w)
	return w.count
}

func countWords(text string) map[string]int {
	count := map[string]int{}
	for _, w := range words(text) {
		count[w]++
	}
	return count
}

// store is the fake's state. Its methods expect Server.mu to be held.
type store struct {
	byID    map[string]*record
	ordered []*record // in the vector store's order
	history map[string][]historyRow
	seq     uint64
}

// historyRow is a row of mem0's history table (mem0/memory/storage.py, 2.0.18); nil
// pointers are SQL NULLs. input is what the platform's history lists as "input".
type historyRow struct {
	id, memoryID         string
	old, new             *string
	event                string
	createdAt, updatedAt *string
	isDeleted            bool
	actorID, role        *string
	userID               string
	input                []message
	order                int
}

// vectorRank is where a memory sits in the vector store's listing. pgvector's list() is
// "SELECT ... LIMIT n" without ORDER BY (mem0/vector_stores/pgvector.py, 2.0.18): the
// order is the table's, unrelated to dates. A hash of the id gives such an order,
// stable between calls so pages do not overlap.
func vectorRank(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

func (st *store) insert(id string, payload map[string]any) *record {
	if st.byID == nil {
		st.byID = make(map[string]*record)
	}
	st.seq++
	r := &record{id: id, seq: st.seq, rank: vectorRank(id), payload: payload}
	st.byID[id] = r
	i, _ := slices.BinarySearchFunc(st.ordered, r, compareRank)
	st.ordered = slices.Insert(st.ordered, i, r)
	return r
}

func compareRank(a, b *record) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.id, b.id))
}

func (st *store) get(id string) *record { return st.byID[id] }

func (st *store) remove(id string) *record {
	r := st.byID[id]
	if r == nil {
		return nil
	}
	delete(st.byID, id)
	i, found := slices.BinarySearchFunc(st.ordered, r, compareRank)
	if found {
		st.ordered = slices.Delete(st.ordered, i, i+1)
	}
	return r
}

// scan returns the memories match accepts, in the vector store's order, at most limit
// (limit < 0: all).
func (st *store) scan(limit int, match func(*record) bool) []*record {
	var out []*record
	for _, r := range st.ordered {
		if limit >= 0 && len(out) >= limit {
			break
		}
		if match == nil || match(r) {
			out = append(out, r)
		}
	}
	return out
}

func (st *store) addHistory(h historyRow) {
	if st.history == nil {
		st.history = make(map[string][]historyRow)
	}
	h.order = len(st.history[h.memoryID])
	st.history[h.memoryID] = append(st.history[h.memoryID], h)
}

// historyOf lists a memory's history as SQLiteManager.get_history orders it:
// "ORDER BY created_at ASC, DATETIME(updated_at) ASC". DATETIME keeps whole seconds and
// NULL sorts first; rows equal on both keep the order they were written in.
func (st *store) historyOf(id string) []historyRow {
	rows := slices.Clone(st.history[id])
	slices.SortStableFunc(rows, func(a, b historyRow) int {
		return cmp.Or(
			cmp.Compare(deref(a.createdAt), deref(b.createdAt)),
			compareSQLiteDatetime(a.updatedAt, b.updatedAt),
			cmp.Compare(a.order, b.order),
		)
	})
	return rows
}

func compareSQLiteDatetime(a, b *string) int {
	secs := func(s *string) (int64, bool) {
		if s == nil {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return 0, false
		}
		return t.Unix(), true
	}
	as, aok := secs(a)
	bs, bok := secs(b)
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return -1
	case !bok:
		return 1
	}
	return cmp.Compare(as, bs)
}

// stored exports r for tests.
func (r *record) stored(nestedMetadata bool) StoredMemory {
	p := r.payload
	m := StoredMemory{
		ID: r.id, Memory: r.text(), Hash: payloadString(p, "hash"),
		UserID: payloadString(p, "user_id"), AgentID: payloadString(p, "agent_id"),
		AppID: payloadString(p, "app_id"), RunID: payloadString(p, "run_id"),
		Role: payloadString(p, "role"), ActorID: payloadString(p, "actor_id"),
		AttributedTo: payloadString(p, "attributed_to"), ExpirationDate: payloadString(p, "expiration_date"),
		CreatedAt: parseTimestamp(payloadString(p, "created_at")),
		UpdatedAt: parseTimestamp(payloadString(p, "updated_at")),
	}
	if nestedMetadata {
		if md, ok := p["metadata"].(map[string]any); ok {
			m.Metadata = deepCopy(md).(map[string]any)
		}
		return m
	}
	m.Metadata = extraPayload(p)
	return m
}

func (h historyRow) entry() HistoryEntry {
	return HistoryEntry{
		ID: h.id, MemoryID: h.memoryID, OldMemory: deref(h.old), NewMemory: deref(h.new), Event: h.event,
		UserID: h.userID, Role: deref(h.role), ActorID: deref(h.actorID), IsDeleted: h.isDeleted,
		CreatedAt: parseTimestamp(deref(h.createdAt)), UpdatedAt: parseTimestamp(deref(h.updatedAt)),
	}
}

// extraPayload is what mem0's library returns as "metadata": the payload keys that are
// neither core nor promoted; nil when there are none.
func extraPayload(p map[string]any) map[string]any {
	var out map[string]any
	for k, v := range p {
		if slices.Contains(corePayload, k) || slices.Contains(promotedKeys, k) {
			continue
		}
		if out == nil {
			out = make(map[string]any)
		}
		out[k] = deepCopy(v)
	}
	return out
}

// stripIdentityKeys drops user_id, agent_id, run_id and actor_id from caller metadata:
// mem0/memory/main.py (2.0.18) _strip_identity_keys, so metadata can never move a memory
// into another scope.
func stripIdentityKeys(md map[string]any) map[string]any {
	out := make(map[string]any, len(md))
	for k, v := range md {
		if !slices.Contains(identityKeys, k) {
			out[k] = deepCopy(v)
		}
	}
	return out
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hit is a ranked search result.
type hit struct {
	rec                                   *record
	score, semantic, keyword, maxPossible float64
}

// searchParams are the knobs of one ranking.
type searchParams struct {
	query     string
	topK      int
	threshold float64
	hybrid    bool                      // add the keyword signal (mem0's v3 retrieval)
	skip      func(r *record) bool      // drops candidates after retrieval (expired memories)
	scorer    func(q, m string) float64 // the semantic score; nil: WordOverlap
}

// rank scores candidates (already filtered, in the vector store's order) the way
// mem0/memory/main.py (2.0.18) _search_vector_store and mem0/utils/scoring.py
// score_and_rank do:
//   - the vector store returns the max(4*top_k, 60) semantically closest memories;
//   - the keyword search (pgvector: to_tsvector @@ plainto_tsquery over the text) marks
//     the memories holding every word of the query, with a sigmoid-normalised rank;
//   - a candidate whose semantic score is below the threshold is dropped, even if its
//     keyword score would lift it;
//   - the score is (semantic + keyword) / max_possible, capped at 1, where max_possible
//     is 2 as soon as any memory matched the keywords, else 1;
//   - best first (stable), cut to top_k.
//
// The entity boost needs spaCy, which the server image does not install, so it is off.
func rank(candidates []*record, p searchParams) []hit {
	internal := max(p.topK*4, 60)
	pool := make([]hit, 0, len(candidates))
	query := distinctWords(p.query)
	for _, r := range candidates {
		var semantic float64
		if p.scorer == nil {
			semantic = overlap(query, r.wordCounts())
		} else {
			semantic = p.scorer(p.query, r.text())
		}
		// pgvector's score is max(0, 1 - cosine distance): never outside 0..1.
		pool = append(pool, hit{rec: r, semantic: clamp01(semantic)})
	}
	slices.SortStableFunc(pool, func(a, b hit) int { return cmp.Compare(b.semantic, a.semantic) })
	if len(pool) > internal {
		pool = pool[:internal]
	}

	keyword := map[string]float64{}
	if p.hybrid {
		keyword = keywordScores(p.query, candidates, internal)
	}
	maxPossible := 1.0
	if len(keyword) > 0 {
		maxPossible += 1
	}

	var out []hit
	for _, h := range pool {
		if p.skip != nil && p.skip(h.rec) {
			continue
		}
		if h.semantic < p.threshold {
			continue
		}
		h.keyword, h.maxPossible = keyword[h.rec.id], maxPossible
		h.score = math.Min((h.semantic+h.keyword)/maxPossible, 1)
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
	if len(out) > p.topK {
		out = out[:max(p.topK, 0)]
	}
	return out
}

// keywordScores models pgvector's keyword_search: a memory matches when it holds every
// word of the query (plainto_tsquery ANDs them, 'simple' config, no lemmatizer without
// spaCy). ts_rank_cd gives 0.1 per cover of the query terms; that raw rank is normalised
// with get_bm25_params/normalize_bm25 of mem0/utils/scoring.py.
func keywordScores(query string, candidates []*record, limit int) map[string]float64 {
	q := words(query)
	out := map[string]float64{}
	if len(q) == 0 {
		return out
	}
	midpoint, steepness := bm25Params(query)
	type match struct {
		id  string
		raw float64
	}
	var matches []match
	for _, r := range candidates {
		count := r.wordCounts()
		covers := math.MaxInt
		for _, w := range q {
			covers = min(covers, count[w])
		}
		if covers == 0 {
			continue
		}
		matches = append(matches, match{r.id, 0.1 * float64(covers)})
	}
	// ORDER BY score DESC LIMIT top_k
	slices.SortStableFunc(matches, func(a, b match) int { return cmp.Compare(b.raw, a.raw) })
	for _, m := range matches[:min(len(matches), limit)] {
		out[m.id] = 1 / (1 + math.Exp(-steepness*(m.raw-midpoint)))
	}
	return out
}

// bm25Params is get_bm25_params of mem0/utils/scoring.py (2.0.18).
func bm25Params(query string) (midpoint, steepness float64) {
	n := len(strings.Fields(query))
	if n == 0 {
		n = 1
	}
	switch {
	case n <= 3:
		return 5, 0.7
	case n <= 6:
		return 7, 0.6
	case n <= 9:
		return 9, 0.5
	case n <= 15:
		return 10, 0.5
	}
	return 12, 0.5
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Max(0, math.Min(1, f))
}

// WordOverlap is the default semantic score: the fraction of the query's distinct words
// that occur in the memory, case-insensitively. Deterministic, in 0..1.
func WordOverlap(query, memory string) float64 {
	return overlap(distinctWords(query), countWords(memory))
}

// overlap is WordOverlap over words already counted: the fraction of the query's
// distinct words that the memory holds.
func overlap(query []string, memory map[string]int) float64 {
	if len(query) == 0 {
		return 0
	}
	hits := 0
	for _, w := range query {
		if memory[w] > 0 {
			hits++
		}
	}
	return float64(hits) / float64(len(query))
}

func distinctWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

func payloadString(p map[string]any, key string) string {
	s, _ := p[key].(string)
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

// deepCopy copies decoded JSON so callers never share maps or slices with the store.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func clonePayload(p map[string]any) map[string]any {
	out := maps.Clone(p)
	for k, v := range out {
		out[k] = deepCopy(v)
	}
	return out
}
