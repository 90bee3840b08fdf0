package mem0test

import (
	"encoding/json"
	"reflect"
	"strconv"
)

// addRequest is the body of an add in both flavors (the platform's MemoryInput).
type addRequest struct {
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	UserID    string         `json:"user_id"`
	AgentID   string         `json:"agent_id"`
	RunID     string         `json:"run_id"`
	Metadata  map[string]any `json:"metadata"`
	Infer     *bool          `json:"infer"`
	AsyncMode *bool          `json:"async_mode"`
}

func (a addRequest) filter() filter {
	return filter{UserID: a.UserID, AgentID: a.AgentID, RunID: a.RunID}
}

// contents are the texts to store. Like mem0 without inference, every non-system
// message becomes one memory; with inference the fake stores verbatim as well.
func (a addRequest) contents() []string {
	var out []string
	for _, m := range a.Messages {
		var text string
		if m.Role == "system" || json.Unmarshal(m.Content, &text) != nil || text == "" {
			continue
		}
		out = append(out, text)
	}
	return out
}

// searchRequest is the body of a search in every flavor and version.
type searchRequest struct {
	Query    *string        `json:"query"`
	UserID   string         `json:"user_id"`
	AgentID  string         `json:"agent_id"`
	RunID    string         `json:"run_id"`
	Metadata map[string]any `json:"metadata"`
	Filters  map[string]any `json:"filters"`
	Limit    *int           `json:"limit"`
	TopK     *int           `json:"top_k"`
}

// filter merges the top-level ids with plain keys of "filters" (v2 search, OSS filters).
func (q searchRequest) filter() filter {
	f := filter{UserID: q.UserID, AgentID: q.AgentID, RunID: q.RunID, Metadata: q.Metadata}
	pick := func(dst *string, key string) {
		if s, ok := q.Filters[key].(string); ok && *dst == "" {
			*dst = s
		}
	}
	pick(&f.UserID, "user_id")
	pick(&f.AgentID, "agent_id")
	pick(&f.RunID, "run_id")
	return f
}

func (q searchRequest) limit(fallback int) int {
	switch {
	case q.Limit != nil:
		return *q.Limit
	case q.TopK != nil:
		return *q.TopK
	}
	return fallback
}

// updateRequest is the body of PUT /memories/{id} in both flavors.
type updateRequest struct {
	Text     *string        `json:"text"`
	Metadata map[string]any `json:"metadata"`
}

func metadataMatches(have, want map[string]any) bool {
	for k, v := range want {
		if !reflect.DeepEqual(have[k], v) {
			return false
		}
	}
	return true
}

func intParam(s string, fallback int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return fallback
}

func ptr[T any](v T) *T { return &v }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
