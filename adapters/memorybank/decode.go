package memorybank

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

const (
	maxBodyBytes = 8 << 20
	maxIDBytes   = 256
)

// wireItem is one memory as either flavor may send it. Every field is kept raw so that
// a field of an unexpected type costs that field, never the whole answer.
type wireItem struct {
	ID        json.RawMessage `json:"id"`
	Memory    json.RawMessage `json:"memory"`
	Data      json.RawMessage `json:"data"`
	Event     json.RawMessage `json:"event"`
	Score     json.RawMessage `json:"score"`
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
	UserID    json.RawMessage `json:"user_id"`
	AgentID   json.RawMessage `json:"agent_id"`
}

// decodeItems reads a list of memories: a bare array (platform, old OSS servers) or an
// object holding it under "results" (OSS, platform output_format v1.1, paginated lists).
// Items that are not objects are skipped.
func decodeItems(body []byte) ([]wireItem, error) {
	raws, err := decodeObjects(body)
	if err != nil {
		return nil, err
	}
	items := make([]wireItem, 0, len(raws))
	for _, raw := range raws {
		var it wireItem
		if unmarshalShared(raw, &it) != nil {
			continue
		}
		items = append(items, it)
	}
	return items, nil
}

// decodeObjects reads a list of JSON objects, bare or under "results", and drops the
// elements that are not objects. The list is split in the same pass that reads the
// envelope: a search answer is read twice (here, then each item), not four times.
func decodeObjects(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		return nil, nil
	}
	var raws []json.RawMessage
	switch body[0] {
	case '{':
		var envelope struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := unmarshalShared(body, &envelope); err != nil {
			return nil, fmt.Errorf("expected a list under results: %w", err)
		}
		raws = envelope.Results
	case '[':
		if err := unmarshalShared(body, &raws); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("expected a list")
	}
	objects := raws[:0]
	for _, raw := range raws {
		if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '{' {
			objects = append(objects, raw)
		}
	}
	return objects, nil
}

// unmarshalShared is json.Unmarshal whose raw values and strings share b's
// bytes rather than copy them: b is an answer's body, read for this call
// alone and never written to, and a search answer copied piece by piece was a
// sixth of what a search allocates.
func unmarshalShared(b []byte, v any) error {
	rest, err := json.Parse(b, v, json.ZeroCopy)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("invalid character %q after top-level value", rest[0])
	}
	return err
}

// decodeItem reads the answer to a get: one memory, or null, which older OSS servers
// answer for a memory that does not exist (found is then false).
func decodeItem(body []byte) (it wireItem, found bool, err error) {
	body = bytes.TrimSpace(body)
	if string(body) == "null" {
		return wireItem{}, false, nil
	}
	if len(body) == 0 || body[0] != '{' {
		return wireItem{}, false, errors.New("expected a memory")
	}
	if err := unmarshalShared(body, &it); err != nil {
		return wireItem{}, false, err
	}
	return it, true, nil
}

// wireChange is one history entry as either flavor sends it.
type wireChange struct {
	ID        json.RawMessage `json:"id"`
	MemoryID  json.RawMessage `json:"memory_id"`
	OldMemory json.RawMessage `json:"old_memory"`
	NewMemory json.RawMessage `json:"new_memory"`
	Event     json.RawMessage `json:"event"`
	CreatedAt json.RawMessage `json:"created_at"`
}

// decodeChanges reads the history of memoryID, oldest first. Entries that name another
// memory are dropped; entries with equal times keep the server's order.
func decodeChanges(body []byte, memoryID string) ([]memory.Change, error) {
	raws, err := decodeObjects(body)
	if err != nil {
		return nil, err
	}
	changes := make([]memory.Change, 0, len(raws))
	for _, raw := range raws {
		var w wireChange
		if unmarshalShared(raw, &w) != nil {
			continue
		}
		if id := rawString(w.MemoryID); id != "" && id != memoryID {
			continue
		}
		id := rawString(w.ID)
		if len(id) > maxIDBytes {
			id = ""
		}
		changes = append(changes, memory.Change{
			ID:         id,
			MemoryID:   memoryID,
			OldContent: boundContent(rawString(w.OldMemory)),
			NewContent: boundContent(rawString(w.NewMemory)),
			Event:      strings.ToUpper(boundReason(rawString(w.Event))),
			CreatedAt:  parseTime(rawString(w.CreatedAt)),
		})
	}
	slices.SortStableFunc(changes, func(a, b memory.Change) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return changes, nil
}

func (it wireItem) id() string {
	id := rawString(it.ID)
	if len(id) > maxIDBytes {
		return ""
	}
	return id
}

// content is "memory" on lists and searches, "data.memory" on a platform add.
func (it wireItem) content() string {
	s := rawString(it.Memory)
	if s == "" && len(it.Data) > 0 {
		var data struct {
			Memory json.RawMessage `json:"memory"`
		}
		if unmarshalShared(it.Data, &data) == nil {
			s = rawString(data.Memory)
		}
	}
	return boundContent(s)
}

// added tells whether an add result left a memory holding our content. UPDATE counts:
// with inference mem0 may fold the content into an existing memory.
func (it wireItem) added() bool {
	switch strings.ToUpper(rawString(it.Event)) {
	case "", "ADD", "UPDATE":
		return true
	}
	return false
}

func (it wireItem) metadata() map[string]any {
	if len(it.Metadata) == 0 || it.Metadata[0] != '{' {
		return nil
	}
	m := make(map[string]any, 8) // into a nil map the decoder makes one of 64
	if unmarshalShared(it.Metadata, &m) != nil {
		return nil
	}
	return m
}

// inScope rejects an item that names another scope. mem0 enforces no isolation, so a
// server that ignored our filters must not leak another application's memories.
func (it wireItem) inScope(scope memory.Scope, meta map[string]any) bool {
	if u := rawString(it.UserID); u != "" && u != scope.UserID() {
		return false
	}
	if a := rawString(it.AgentID); a != "" && a != scope.AgentID() {
		return false
	}
	if app, ok := meta[memory.TagAppID].(string); ok && app != scope.AppID() {
		return false
	}
	return true
}

func (it wireItem) record() memory.Record {
	return memory.Record{
		ID:        it.id(),
		Content:   it.content(),
		Metadata:  it.metadata(),
		CreatedAt: parseTime(rawString(it.CreatedAt)),
		UpdatedAt: parseTime(rawString(it.UpdatedAt)),
	}
}

func (it wireItem) hit(meta map[string]any) memory.Hit {
	return memory.Hit{
		ID:        it.id(),
		Content:   it.content(),
		Relevance: relevance(it.Score),
		Metadata:  meta,
		CreatedAt: parseTime(rawString(it.CreatedAt)),
	}
}

// plainString reads a JSON string without escapes, most of what mem0 sends,
// without decoding it: raw comes from a document json already validated, so
// it holds no control characters, and valid UTF-8 reads as json would read it.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || bytes.IndexByte(inner, '"') >= 0 || !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// rawString returns a JSON string's value, a number's literal, or "" for anything else.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		if s, ok := plainString(raw); ok {
			return s
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw)
	}
	return ""
}

// relevance maps mem0's score to 0..1: clamped, and 0 when absent or unreadable.
func relevance(raw json.RawMessage) float64 {
	s := rawString(raw)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0
	}
	return math.Min(1, math.Max(0, f))
}

var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads the timestamps mem0 writes (Python isoformat, with or without a zone;
// zoneless ones are taken as UTC) and gives the zero time for anything else.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func boundContent(s string) string {
	if len(s) <= memory.MaxContentChars || utf8.RuneCountInString(s) <= memory.MaxContentChars {
		return s
	}
	return string([]rune(s)[:memory.MaxContentChars])
}
