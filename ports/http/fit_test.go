package http

import (
	"encoding/json"
	segjson "github.com/segmentio/encoding/json"
	"strings"
	"testing"
)

func TestAnswersFitTheModelsContext(t *testing.T) {
	long := strings.Repeat("é", 16384)
	bigMeta := func() map[string]any {
		m := map[string]any{}
		for i := range 32 {
			m[strings.Repeat("k", i+1)] = strings.Repeat("v", 2048)
		}
		return m
	}

	search := searchResponse{RequestID: "r"}
	for range 50 {
		search.Results = append(search.Results, searchResult{MemoryID: "m", Content: long, RelevanceScore: 0.5, Metadata: bigMeta()})
	}
	if cut, asIs := fitResults(&search); !cut || asIs != nil || !search.Results[0].Truncated || len(search.Results) != 50 {
		t.Fatalf("search not cut: %v %d", search.Truncated, len(search.Results))
	}
	assertFits(t, search)

	list := memoryPage{NextCursor: "c"}
	for range 100 {
		list.Memories = append(list.Memories, memoryItem{MemoryID: "m", Content: long, Metadata: bigMeta()})
	}
	if !fitItems(list.Memories, func() any { return list }) || len(list.Memories) != 100 {
		t.Fatal("list not cut")
	}
	assertFits(t, list)

	hist := memoryHistory{MemoryID: "m"}
	for range 300 {
		hist.Changes = append(hist.Changes, memoryChange{Event: "UPDATE", OldContent: long, NewContent: long})
	}
	if !fitChanges(&hist) || len(hist.Changes) == 0 {
		t.Fatal("history not cut")
	}
	assertFits(t, hist)

	small := searchResponse{Results: []searchResult{{Content: "short", Metadata: map[string]any{"a": "b"}}}}
	cut, asIs := fitResults(&small)
	if cut || small.Results[0].Content != "short" {
		t.Fatal("a small answer was cut")
	}
	// Measured once: the encoding that fit is the one written.
	if want, _ := segjson.Marshal(small); string(asIs) != string(want) {
		t.Fatalf("the answer as it fit: %s, want %s", asIs, want)
	}
}

func assertFits(t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if len(b) >= 100_000 {
		t.Fatalf("answer of %d bytes", len(b))
	}
}
