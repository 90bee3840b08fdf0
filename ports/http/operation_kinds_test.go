package http

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// The writes the API accepts as operations ask for the scope, and are as
// consequential, as the table of kinds says.
func TestWritesAreDocumentedAsTheirKinds(t *testing.T) {
	t.Parallel()
	writes := map[string]operation.Kind{
		"createMemory": operation.KindCreateMemory, "updateMemory": operation.KindUpdateMemory,
		"deleteMemory": operation.KindDeleteMemory, "forgetAllMemories": operation.KindForgetMemories,
	}
	if len(writes) != len(events.Kinds()) {
		t.Fatalf("%d writes for %d kinds: name the new kind's operation here", len(writes), len(events.Kinds()))
	}
	reg := prometheus.NewRegistry()
	h := NewHandler(app.Application{}, Config{PublicURL: "https://memory.example.com", Gatherer: reg, Registerer: reg})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID   string                `json:"operationId"`
			Security      []map[string][]string `json:"security"`
			Consequential bool                  `json:"x-openai-isConsequential"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("document: %v", err)
	}
	seen := 0
	for _, item := range doc.Paths {
		for _, op := range item {
			name, ok := writes[op.OperationID]
			if !ok {
				continue
			}
			seen++
			k, _ := events.KindOf(name)
			var scopes []string
			for _, s := range op.Security {
				for _, sc := range s {
					scopes = append(scopes, sc...)
				}
			}
			if !slices.Contains(scopes, k.Scope) || op.Consequential != k.Consequential {
				t.Errorf("%s: scopes %v, consequential %v; its kind needs %s, consequential %v",
					op.OperationID, scopes, op.Consequential, k.Scope, k.Consequential)
			}
		}
	}
	if seen != len(writes) {
		t.Errorf("%d of the %d writes are documented", seen, len(writes))
	}
}
