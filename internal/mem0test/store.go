package mem0test

import (
	"crypto/md5"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// StoredMemory is one memory as the fake Memory Bank holds it.
type StoredMemory struct {
	ID        string
	Memory    string
	UserID    string
	AgentID   string
	RunID     string
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (m StoredMemory) clone() StoredMemory {
	m.Metadata = maps.Clone(m.Metadata)
	return m
}

func (m StoredMemory) hash() string {
	sum := md5.Sum([]byte(m.Memory))
	return hex.EncodeToString(sum[:])
}

// HistoryEntry is one change of a memory, as the history routes list it.
type HistoryEntry struct {
	ID        string
	MemoryID  string
	OldMemory string
	NewMemory string
	Event     string // ADD, UPDATE or DELETE
	UserID    string
	CreatedAt time.Time
}

// filter selects memories by the ids mem0 scopes them with; an empty field matches all.
type filter struct {
	UserID, AgentID, RunID string
	Metadata               map[string]any // key/value pairs a memory's metadata must hold
}

func (f filter) empty() bool { return f.UserID == "" && f.AgentID == "" && f.RunID == "" }

func (f filter) match(m *StoredMemory) bool {
	return (f.UserID == "" || f.UserID == m.UserID) &&
		(f.AgentID == "" || f.AgentID == m.AgentID) &&
		(f.RunID == "" || f.RunID == m.RunID) &&
		metadataMatches(m.Metadata, f.Metadata)
}

// store is the fake's state. Its methods expect Server.mu to be held.
type store struct {
	memories []*StoredMemory // in insertion order
	history  map[string][]HistoryEntry
}

func (st *store) add(f filter, content string, metadata map[string]any, now time.Time) *StoredMemory {
	m := &StoredMemory{
		ID:        uuid.NewString(),
		Memory:    content,
		UserID:    f.UserID,
		AgentID:   f.AgentID,
		RunID:     f.RunID,
		Metadata:  maps.Clone(metadata),
		CreatedAt: now,
		UpdatedAt: now,
	}
	st.memories = append(st.memories, m)
	st.record(m, "", content, "ADD", now)
	return m
}

func (st *store) record(m *StoredMemory, old, updated, event string, now time.Time) {
	if st.history == nil {
		st.history = make(map[string][]HistoryEntry)
	}
	st.history[m.ID] = append(st.history[m.ID], HistoryEntry{
		ID: uuid.NewString(), MemoryID: m.ID, OldMemory: old, NewMemory: updated, Event: event, UserID: m.UserID, CreatedAt: now,
	})
}

func (st *store) get(id string) *StoredMemory {
	for _, m := range st.memories {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (st *store) list(f filter) []*StoredMemory {
	var out []*StoredMemory
	for _, m := range st.memories {
		if f.match(m) {
			out = append(out, m)
		}
	}
	return out
}

func (st *store) update(id, text string, metadata map[string]any, now time.Time) *StoredMemory {
	m := st.get(id)
	if m == nil {
		return nil
	}
	old := m.Memory
	m.Memory = text
	if metadata != nil {
		m.Metadata = maps.Clone(metadata)
	}
	m.UpdatedAt = now
	st.record(m, old, text, "UPDATE", now)
	return m
}

func (st *store) delete(id string, now time.Time) bool {
	i := slices.IndexFunc(st.memories, func(m *StoredMemory) bool { return m.ID == id })
	if i < 0 {
		return false
	}
	st.record(st.memories[i], st.memories[i].Memory, "", "DELETE", now)
	st.memories = slices.Delete(st.memories, i, i+1)
	return true
}

func (st *store) deleteAll(f filter, now time.Time) int {
	n := 0
	for _, m := range st.list(f) {
		if st.delete(m.ID, now) {
			n++
		}
	}
	return n
}

// scored is a search result.
type scored struct {
	*StoredMemory
	Score float64
}

// search ranks the memories matching f by scorer, best first, ties in insertion order;
// limit <= 0 returns them all.
func (st *store) search(query string, f filter, limit int, scorer func(query, memory string) float64) []scored {
	var out []scored
	for _, m := range st.list(f) {
		out = append(out, scored{m, scorer(query, m.Memory)})
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// WordOverlap is the default search score: the fraction of the query's distinct words
// that occur in the memory, case-insensitively. Deterministic, in 0..1.
func WordOverlap(query, memory string) float64 {
	q := words(query)
	if len(q) == 0 {
		return 0
	}
	have := make(map[string]bool)
	for _, w := range words(memory) {
		have[w] = true
	}
	seen := make(map[string]bool, len(q))
	hits := 0
	for _, w := range q {
		if seen[w] {
			continue
		}
		seen[w] = true
		if have[w] {
			hits++
		}
	}
	return float64(hits) / float64(len(seen))
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}
