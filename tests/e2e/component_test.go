package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestSpineEndToEnd drives the binary as an operator and a GPT would: migrate,
// create an app, store a memory, follow its operation, search, read the audit
// and find the event on its stream, against every Memory Bank flavor.
func TestSpineEndToEnd(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-oss", "mem0-platform", "embedded"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, flavor)
			if out, err := e.RunCLI("migrate"); err != nil {
				t.Fatalf("migrate: %v %s", err, out)
			}
			app := e.CreateApp("Travel GPT")
			e.Start("serve")

			code, hdr, body := e.CallWithRequestID("POST", "/api/v1/memories", app.APIKey, "req-create-1", map[string]any{
				"content":         "The user prefers window seats on long flights",
				"metadata":        map[string]any{"topic": "travel", "importance": 3},
				"conversation_id": "conv-1",
			})
			if code != http.StatusAccepted || body["status"] != "pending" {
				t.Fatalf("create: %d %v", code, body)
			}
			opID := body["operation_id"].(string)
			if hdr.Get("Location") != "/api/v1/operations/"+opID {
				t.Fatalf("Location %q", hdr.Get("Location"))
			}
			e.Eventually("the operation succeeds", func() bool { return e.OperationStatus(app.APIKey, opID) == "succeeded" })
			_, _, op := e.Call("GET", "/api/v1/operations/"+opID, app.APIKey, nil)
			ids := op["memory_ids"].([]any)
			if len(ids) != 1 || op["kind"] != "create_memory" || op["removed"] != nil {
				t.Fatalf("memory ids %v", op)
			}

			code, _, body = e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "window seats", "limit": 5})
			if code != http.StatusOK || body["request_id"] == "" {
				t.Fatalf("search: %d %v", code, body)
			}
			results := body["results"].([]any)
			if len(results) != 1 {
				t.Fatalf("search results %v", results)
			}
			hit := results[0].(map[string]any)
			if hit["memory_id"] != ids[0] || hit["content"] != "The user prefers window seats on long flights" {
				t.Fatalf("hit %v", hit)
			}
			if s := hit["relevance_score"].(float64); s <= 0 || s > 1 {
				t.Fatalf("relevance %v not in (0,1]", s)
			}
			meta := hit["metadata"].(map[string]any)
			if meta["topic"] != "travel" || meta["conversation_id"] != "conv-1" || meta["operation_id"] != nil {
				t.Fatalf("metadata %v", meta)
			}
			if hit["created_at"] == nil {
				t.Fatalf("created_at missing: %v", hit)
			}
			if e.Bank != nil {
				m := e.Bank.Memories()
				if len(m) != 1 || m[0].AgentID != "custom_gpt:"+app.AppID || m[0].UserID != app.AppID {
					t.Fatalf("memory bank scope %+v", m)
				}
				if m[0].Metadata["source"] != "custom-gpt" || m[0].Metadata["operation_id"] != opID || m[0].Metadata["app_id"] != app.AppID {
					t.Fatalf("memory bank tags %+v", m[0].Metadata)
				}
			}

			code, _, body = e.Call("GET", "/admin/v1/audit?app_id="+app.AppID, harness.AdminToken, nil)
			if code != http.StatusOK {
				t.Fatalf("audit: %d %v", code, body)
			}
			entries := body["entries"].([]any)
			got := map[string]string{}
			for _, x := range entries {
				m := x.(map[string]any)
				got[m["operation"].(string)] = m["status"].(string)
				if m["app_id"] != app.AppID || m["request_id"] == "" {
					t.Fatalf("audit entry %v", m)
				}
			}
			if len(entries) != 2 || got["create_memory"] != "succeeded" || got["search"] != "succeeded" {
				t.Fatalf("audit entries %v", entries)
			}

			rdb := redistest.Client(t)
			topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
			var (
				created []events.MemoryCreated
				evMeta  map[string]string
			)
			e.Eventually("MemoryCreated is on its stream", func() bool {
				msgs, _ := rdb.XRange(context.Background(), topics.Event("MemoryCreated"), "-", "+").Result()
				created = created[:0]
				for _, m := range msgs {
					var ev events.MemoryCreated
					_ = json.Unmarshal([]byte(m.Values["payload"].(string)), &ev)
					_ = json.Unmarshal([]byte(m.Values["metadata"].(string)), &evMeta)
					created = append(created, ev)
				}
				return len(created) == 1
			})
			if created[0].OperationID != opID || created[0].AppID != app.AppID || created[0].Version != 1 || len(created[0].MemoryIDs) != 1 {
				t.Fatalf("MemoryCreated %+v", created[0])
			}
			// The request id is the service's own; the client's X-Request-ID is the correlation id.
			if created[0].RequestID != hdr.Get("X-Request-ID") || created[0].RequestID == "req-create-1" ||
				evMeta["correlation_id"] != "req-create-1" || evMeta["name"] != "MemoryCreated" {
				t.Fatalf("MemoryCreated is not correlated with its request: %+v %v", created[0], evMeta)
			}
			e.Eventually("MemoriesSearched is on its stream", func() bool {
				n, _ := rdb.XLen(context.Background(), topics.Event("MemoriesSearched")).Result()
				return n == 1
			})

			resp, err := http.Get(e.Base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, name := range []string{
				`custom_gpt_http_requests_total{code="202",method="POST",route="/api/v1/memories"}`,
				`custom_gpt_http_requests_total{code="200",method="POST",route="/api/v1/search"}`,
				`custom_gpt_app_handler_duration_seconds_count{handler="createMemory",outcome="success"}`,
			} {
				if !strings.Contains(string(metrics), name) {
					t.Errorf("/metrics lacks %s", name)
				}
			}
		})
	}
}
