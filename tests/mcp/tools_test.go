package mcp

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

var allTools = []string{
	"delete_memory", "forget_everything", "get_memory", "get_operation", "list_memories",
	"memory_history", "remember", "search_memories", "update_memory",
}

// TestTools drives every tool through the SDK's client, and checks that the
// memory MCP stores is the one the API sees, and the other way round.
func TestTools(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	if out, err := e.RunCLI("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	a := e.CreateApp("Travel GPT")
	if out, err := e.RunCLI("apps", "set-mcp", a.AppID, "--enable"); err != nil {
		t.Fatalf("set-mcp: %v %s", err, out)
	}
	e.Start("serve")

	s, err := connect(t, e, a.AppID, a.APIKey)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	defer s.Close()
	if init := s.InitializeResult(); init == nil || init.ServerInfo.Name != "custom-gpt-adapter" || init.Capabilities.Tools == nil {
		t.Fatalf("initialize answered %+v", init)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		an := tool.Annotations
		if tool.Description == "" || tool.InputSchema == nil || tool.OutputSchema == nil || an == nil ||
			an.OpenWorldHint == nil || *an.OpenWorldHint || an.DestructiveHint == nil {
			t.Errorf("tool %s lacks a description, a schema or its annotations: %+v", tool.Name, tool)
			continue
		}
		readOnly := strings.HasPrefix(tool.Name, "get_") || tool.Name == "list_memories" || tool.Name == "search_memories" || tool.Name == "memory_history"
		destructive := tool.Name == "update_memory" || tool.Name == "delete_memory" || tool.Name == "forget_everything"
		if an.ReadOnlyHint != readOnly || *an.DestructiveHint != destructive || an.IdempotentHint == (tool.Name == "remember") {
			t.Errorf("tool %s: annotations %+v", tool.Name, *an)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, allTools) {
		t.Fatalf("tools/list: %v, want %v", names, allTools)
	}

	// remember waits for its operation, then search finds what it stored.
	got := ok(t, s, "remember", map[string]any{"content": "The user prefers window seats on long flights", "metadata": map[string]any{"topic": "travel"}})
	if got["finished"] != true || got["status"] != "succeeded" || len(ids(got)) != 1 {
		t.Fatalf("remember: %v", got)
	}
	viaMCP, _ := ids(got)[0].(string)
	if op := ok(t, s, "get_operation", map[string]any{"operation_id": got["operation_id"]}); op["status"] != "succeeded" || op["kind"] != "create_memory" {
		t.Fatalf("get_operation: %v", op)
	}
	found := ok(t, s, "search_memories", map[string]any{"query": "window seats"})
	if !hasMemory(found["results"], viaMCP) {
		t.Fatalf("search_memories does not find %s: %v", viaMCP, found)
	}

	// One memory space: the API sees what MCP stored, and MCP what the API stored.
	code, _, page := e.Call("GET", "/api/v1/memories", a.APIKey, nil)
	if code != http.StatusOK || !hasMemory(page["memories"], viaMCP) {
		t.Fatalf("the API does not see the memory stored through MCP: %d %v", code, page)
	}
	opID := e.AcceptCreate(a.APIKey, "The user is vegetarian")
	viaAPI := e.Succeeded(a.APIKey, opID)["memory_ids"].([]any)[0].(string)
	first := ok(t, s, "list_memories", map[string]any{"limit": 1})
	if !hasMemory(first["memories"], viaAPI) || first["next_cursor"] == nil {
		t.Fatalf("list_memories, first page: %v", first)
	}
	second := ok(t, s, "list_memories", map[string]any{"limit": 1, "cursor": first["next_cursor"]})
	if !hasMemory(second["memories"], viaMCP) {
		t.Fatalf("list_memories, second page: %v", second)
	}
	if m := ok(t, s, "get_memory", map[string]any{"memory_id": viaAPI}); m["content"] != "The user is vegetarian" {
		t.Fatalf("get_memory: %v", m)
	}

	// The writes that do not wait answer pending; get_operation follows them.
	follow := func(what string, acc map[string]any) {
		t.Helper()
		if acc["status"] != "pending" || acc["operation_id"] == nil {
			t.Fatalf("%s: %v", what, acc)
		}
		e.Eventually(what+" succeeds", func() bool {
			return ok(t, s, "get_operation", map[string]any{"operation_id": acc["operation_id"]})["status"] == "succeeded"
		})
	}
	follow("update_memory", ok(t, s, "update_memory", map[string]any{"memory_id": viaMCP, "content": "The user prefers aisle seats on long flights"}))
	if m := ok(t, s, "get_memory", map[string]any{"memory_id": viaMCP}); m["content"] != "The user prefers aisle seats on long flights" {
		t.Fatalf("get_memory after update: %v", m)
	}
	if h := ok(t, s, "memory_history", map[string]any{"memory_id": viaMCP}); len(h["changes"].([]any)) < 2 {
		t.Fatalf("memory_history: %v", h)
	}
	follow("delete_memory", ok(t, s, "delete_memory", map[string]any{"memory_id": viaMCP}))
	if msg := failed(t, s, "get_memory", map[string]any{"memory_id": viaMCP}); !strings.HasPrefix(msg, "memory-not-found") {
		t.Fatalf("get_memory of a deleted memory: %q", msg)
	}
	follow("forget_everything", ok(t, s, "forget_everything", map[string]any{}))
	if code, _, page := e.Call("GET", "/api/v1/memories", a.APIKey, nil); code != http.StatusOK || len(page["memories"].([]any)) != 0 {
		t.Fatalf("the API still sees memories after forget_everything: %d %v", code, page)
	}

	// Bad input is a tool error naming the field at fault.
	if msg := failed(t, s, "remember", map[string]any{"content": "x", "colour": "blue"}); !strings.Contains(msg, "colour") {
		t.Fatalf("an unknown argument: %q", msg)
	}
	if msg := failed(t, s, "remember", map[string]any{"content": strings.Repeat("x", 16385)}); !strings.Contains(msg, "(content)") {
		t.Fatalf("too long a content: %q", msg)
	}
	if msg := failed(t, s, "search_memories", map[string]any{"query": "x", "limit": 99}); !strings.Contains(msg, "(limit)") {
		t.Fatalf("too large a limit: %q", msg)
	}

	// Every call is audited, as the API's are.
	code, _, audit := e.Call("GET", "/admin/v1/audit?limit=100&app_id="+a.AppID, harness.AdminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("audit: %d %v", code, audit)
	}
	// channels[action] counts the entries of each channel: the API's own
	// calls here are lists and one create, everything else came through MCP.
	channels := map[string]map[string]int{}
	for _, x := range audit["entries"].([]any) {
		entry := x.(map[string]any)
		action, ch := entry["operation"].(string), entry["channel"].(string)
		if channels[action] == nil {
			channels[action] = map[string]int{}
		}
		channels[action][ch]++
	}
	for _, action := range []string{"search", "get_memory", "update_memory", "delete_memory", "forget_memories", "memory_history"} {
		if c := channels[action]; c["mcp"] == 0 || len(c) != 1 {
			t.Errorf("audit of %s: %v, want entries of channel mcp only", action, c)
		}
	}
	for _, action := range []string{"list_memories", "create_memory"} {
		if c := channels[action]; c["api"] == 0 || c["mcp"] == 0 || len(c) != 2 {
			t.Errorf("audit of %s: %v, want the API's and MCP's", action, c)
		}
	}
}

func ids(op map[string]any) []any {
	v, _ := op["memory_ids"].([]any)
	return v
}

func hasMemory(list any, id string) bool {
	items, _ := list.([]any)
	for _, x := range items {
		if m, _ := x.(map[string]any); m["memory_id"] == id {
			return true
		}
	}
	return false
}
