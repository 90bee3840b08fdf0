package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestMemoryLifecycle drives every lifecycle endpoint as a GPT would: create,
// list, get, correct, read the history, delete, forget everything; another
// application never reaches the memories, and long answers are cut, not failed.
func TestMemoryLifecycle(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-oss", "embedded"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			a, b := e.CreateApp("GPT A"), e.CreateApp("GPT B")
			e.Start("serve")

			store := func(content string) string {
				t.Helper()
				code, hdr, body := e.Call("POST", "/api/v1/memories", a.APIKey, map[string]any{"content": content, "metadata": map[string]any{"topic": "travel"}})
				if code != http.StatusAccepted {
					t.Fatalf("create: %d %v", code, body)
				}
				opID := body["operation_id"].(string)
				if hdr.Get("Location") != "/api/v1/operations/"+opID {
					t.Fatalf("Location %q", hdr.Get("Location"))
				}
				e.Eventually("the memory is stored", func() bool { return e.OperationStatus(a.APIKey, opID) == "succeeded" })
				_, _, op := e.Call("GET", "/api/v1/operations/"+opID, a.APIKey, nil)
				return op["memory_ids"].([]any)[0].(string)
			}
			follow := func(what string, code int, hdr http.Header, body map[string]any) map[string]any {
				t.Helper()
				if code != http.StatusAccepted || body["status"] != "pending" {
					t.Fatalf("%s: %d %v", what, code, body)
				}
				opID := body["operation_id"].(string)
				if hdr.Get("Location") != "/api/v1/operations/"+opID {
					t.Fatalf("%s: Location %q", what, hdr.Get("Location"))
				}
				e.Eventually(what+" succeeds", func() bool { return e.OperationStatus(a.APIKey, opID) == "succeeded" })
				_, _, op := e.Call("GET", "/api/v1/operations/"+opID, a.APIKey, nil)
				return op
			}

			first := store("The user prefers window seats on long flights")
			second := store("The user is vegetarian")

			code, _, list := e.Call("GET", "/api/v1/memories", a.APIKey, nil)
			if code != http.StatusOK || list["truncated"] != false {
				t.Fatalf("list: %d %v", code, list)
			}
			mems := list["memories"].([]any)
			if len(mems) != 2 || mems[0].(map[string]any)["memory_id"] != second || mems[1].(map[string]any)["memory_id"] != first {
				t.Fatalf("list is not newest first: %v", mems)
			}
			if mems[0].(map[string]any)["created_at"] == nil {
				t.Fatalf("list item without created_at: %v", mems[0])
			}
			code, _, page := e.Call("GET", "/api/v1/memories?limit=1", a.APIKey, nil)
			if code != http.StatusOK || len(page["memories"].([]any)) != 1 || page["next_cursor"] == nil {
				t.Fatalf("first page: %d %v", code, page)
			}
			code, _, page = e.Call("GET", "/api/v1/memories?limit=1&cursor="+page["next_cursor"].(string), a.APIKey, nil)
			if code != http.StatusOK || len(page["memories"].([]any)) != 1 || page["memories"].([]any)[0].(map[string]any)["memory_id"] != first {
				t.Fatalf("second page: %d %v", code, page)
			}
			if code, _, body := e.Call("GET", "/api/v1/memories?limit=ten", a.APIKey, nil); code != http.StatusUnprocessableEntity || body["field"] != "limit" {
				t.Fatalf("limit=ten: %d %v", code, body)
			}

			code, _, got := e.Call("GET", "/api/v1/memories/"+first, a.APIKey, nil)
			if code != http.StatusOK || got["content"] != "The user prefers window seats on long flights" || got["metadata"].(map[string]any)["topic"] != "travel" {
				t.Fatalf("get: %d %v", code, got)
			}

			// Another application reaches none of it.
			for _, c := range []struct{ method, path string }{
				{"GET", "/api/v1/memories/" + first},
				{"GET", "/api/v1/memories/" + first + "/history"},
			} {
				if code, _, body := e.Call(c.method, c.path, b.APIKey, nil); code != http.StatusNotFound {
					t.Fatalf("B: %s %s: %d %v", c.method, c.path, code, body)
				}
			}
			if _, _, other := e.Call("GET", "/api/v1/memories", b.APIKey, nil); len(other["memories"].([]any)) != 0 {
				t.Fatalf("B lists A's memories: %v", other)
			}
			// Not A's to B: not found at once, nothing accepted.
			code, hdr, body := e.Call("PATCH", "/api/v1/memories/"+first, b.APIKey, map[string]any{"content": "hijacked"})
			if code != http.StatusNotFound {
				t.Fatalf("B's update: %d %v %v", code, hdr, body)
			}

			code, hdr, body = e.Call("PATCH", "/api/v1/memories/"+first, a.APIKey, map[string]any{"content": "The user prefers aisle seats on long flights"})
			follow("update", code, hdr, body)
			_, _, got = e.Call("GET", "/api/v1/memories/"+first, a.APIKey, nil)
			if got["content"] != "The user prefers aisle seats on long flights" {
				t.Fatalf("after update: %v", got)
			}
			if code, _, body := e.Call("PATCH", "/api/v1/memories/"+first, a.APIKey, map[string]any{"content": ""}); code != http.StatusUnprocessableEntity || body["field"] != "content" {
				t.Fatalf("empty update: %d %v", code, body)
			}
			if code, _, body := e.Call("PATCH", "/api/v1/memories/"+first, a.APIKey, map[string]any{"content": "x", "user_id": "u"}); code != http.StatusBadRequest || body["field"] != "user_id" {
				t.Fatalf("unknown field: %d %v", code, body)
			}

			code, _, hist := e.Call("GET", "/api/v1/memories/"+first+"/history", a.APIKey, nil)
			if code != http.StatusOK {
				t.Fatalf("history: %d %v", code, hist)
			}
			changes := hist["changes"].([]any)
			if len(changes) < 2 || changes[len(changes)-1].(map[string]any)["event"] != "UPDATE" ||
				changes[len(changes)-1].(map[string]any)["new_content"] != "The user prefers aisle seats on long flights" {
				t.Fatalf("history: %v", changes)
			}

			code, hdr, body = e.Call("DELETE", "/api/v1/memories/"+second, a.APIKey, nil)
			follow("delete", code, hdr, body)
			if code, _, body := e.Call("GET", "/api/v1/memories/"+second, a.APIKey, nil); code != http.StatusNotFound {
				t.Fatalf("deleted memory: %d %v", code, body)
			}

			// Long memories: the list is cut, never failed, and says so.
			long := strings.Repeat("a long memory about many things. ", 480) // 15,840 characters
			for i := range 6 {
				store(fmt.Sprintf("%d %s", i, long))
			}
			code, _, list = e.Call("GET", "/api/v1/memories?limit=100", a.APIKey, nil)
			if code != http.StatusOK || list["truncated"] != true || len(list["memories"].([]any)) != 7 {
				t.Fatalf("long list: %d truncated=%v %d memories", code, list["truncated"], len(list["memories"].([]any)))
			}
			if n := len(mustJSON(list)); n >= 100_000 {
				t.Fatalf("long list of %d characters", n)
			}
			for _, m := range list["memories"].([]any) {
				m := m.(map[string]any)
				if utf8.RuneCountInString(m["content"].(string)) > 15_000 && m["truncated"] != true {
					t.Fatalf("uncut memory flagged %v", m["truncated"])
				}
			}

			code, hdr, body = e.Call("DELETE", "/api/v1/memories", a.APIKey, nil)
			op := follow("forget everything", code, hdr, body)
			if op["kind"] != "forget_memories" || op["removed"] != float64(7) {
				t.Fatalf("forget: %v", op)
			}
			if _, _, list := e.Call("GET", "/api/v1/memories", a.APIKey, nil); len(list["memories"].([]any)) != 0 {
				t.Fatalf("after forget: %v", list)
			}
		})
	}
}
