package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
)

// An export the Memory Bank breaks off mid-way is still one valid JSON
// document, holding what was read and saying it is incomplete and why.
func TestExportBrokenOffStaysValidJSON(t *testing.T) {
	t.Parallel()
	memories := func(yield func(query.ExportedMemory, error) bool) {
		for i := range 3 {
			if !yield(query.ExportedMemory{Record: memory.Record{ID: string(rune('a' + i)), Content: "fact"}}, nil) {
				return
			}
		}
		yield(query.ExportedMemory{}, errs.Unavailable("memory-bank-unavailable", "the Memory Bank is unavailable; retry later", errors.New("503")))
	}
	var out bytes.Buffer
	out.WriteString(`{"app_id":"app-1","memories":`)
	broke, err := export.Memories(&out, memories, nil)
	if err != nil || broke == nil {
		t.Fatalf("broke %v, write error %v", broke, err)
	}
	out.Write(export.Tail(broke))
	var doc struct {
		Memories []export.Memory `json:"memories"`
		Complete bool            `json:"complete"`
		Error    string          `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out.Bytes())
	}
	if len(doc.Memories) != 3 || doc.Complete || doc.Error != "the export broke off: the Memory Bank is unavailable; retry later; export again to get the rest" {
		t.Fatalf("document %+v", doc)
	}
}
