package mem0test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

type errorsTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// The fake's answers are checked against the document: an answer of the wrong shape
// fails the test that provoked it.
func TestPlatformAnswersAreValidated(t *testing.T) {
	tests := []struct {
		name, method, path, answer string
		status                     int
		wantReport                 bool
	}{
		{"memory with a numeric id", "GET", "/v1/memories/" + uuidFor(1) + "/", `{"id": 5, "memory": "x"}`, 200, true},
		{"search result scored above 1", "POST", "/v3/memories/search/", `{"results":[{"id":"` + uuidFor(1) + `","memory":"x","created_at":"2026-01-01T00:00:00Z","score":1.5}]}`, 200, true},
		{"list envelope without count", "POST", "/v3/memories/", `{"next":null,"previous":null,"results":[]}`, 200, true},
		{"event with an unknown status", "GET", "/v1/event/" + uuidFor(2) + "/", `{"id":"` + uuidFor(2) + `","status":"DONE"}`, 200, true},
		{"history entry with a date that is not one", "GET", "/v1/memories/" + uuidFor(1) + "/history/", `[{"id":"` + uuidFor(3) + `","memory_id":"` + uuidFor(1) + `","input":[],"new_memory":null,"user_id":null,"event":"DELETE","created_at":"yesterday","updated_at":"yesterday"}]`, 200, true},
		{"a well-formed memory", "GET", "/v1/memories/" + uuidFor(1) + "/", `{"id":"` + uuidFor(1) + `","memory":"x","user_id":null,"created_at":"2026-01-01T00:00:00.000000-08:00"}`, 200, false},
		{"a DELETE history entry without new text (amended)", "GET", "/v1/memories/" + uuidFor(1) + "/history/", `[{"id":"` + uuidFor(3) + `","memory_id":"` + uuidFor(1) + `","input":[],"new_memory":null,"user_id":null,"event":"DELETE","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}]`, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &errorsTB{TB: t}
			s := NewServer(tb, memorybank.FlavorPlatform)
			body := ""
			if tt.method == "POST" {
				body = `{"query":"q","filters":{"user_id":"u"}}`
			}
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(body))
			r.Header.Set("Authorization", "Token k")
			r.Header.Set("Content-Type", "application/json")
			op, refused := s.checkPlatformRequest(httptest.NewRecorder(), r)
			if refused {
				t.Fatalf("request refused: %v", tb.errs)
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "application/json")
			rec.WriteHeader(tt.status)
			_, _ = rec.WriteString(tt.answer)
			s.checkPlatformResponse(op, r, rec)
			tb.mu.Lock()
			defer tb.mu.Unlock()
			if got := len(tb.errs) > 0; got != tt.wantReport {
				t.Errorf("reported %q, want a report: %v", tb.errs, tt.wantReport)
			}
		})
	}
}

func uuidFor(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func TestVectorRankIsNotInsertionOrder(t *testing.T) {
	var st store
	for i := range 50 {
		st.insert(uuidFor(i), map[string]any{"data": fmt.Sprint(i)})
	}
	inOrder := true
	for i, r := range st.ordered {
		inOrder = inOrder && r.id == uuidFor(i)
	}
	if inOrder {
		t.Errorf("the store lists in insertion order")
	}
	st.remove(uuidFor(7))
	if len(st.ordered) != 49 || st.get(uuidFor(7)) != nil {
		t.Errorf("remove left %d memories", len(st.ordered))
	}
}
