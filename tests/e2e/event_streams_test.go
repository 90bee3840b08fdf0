package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/asyncapitest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// TestEventsForOtherServices drives the memory lifecycle through the API and
// reads what other services would read: every event on the streams is a
// CloudEvent (ce_* metadata with the right values) and matches the schemas of
// the served AsyncAPI document, which is valid AsyncAPI 3.0.0.
func TestEventsForOtherServices(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	prefix := e.Vars["CUSTOM_GPT_STREAM_PREFIX"]
	topics := events.Topics{Prefix: prefix}
	a := e.CreateApp("Events GPT")
	e.Start("serve")

	doc := get(t, e.Base+"/asyncapi.json", "application/json")
	if err := asyncapitest.Validate(doc); err != nil {
		t.Fatalf("/asyncapi.json is not valid AsyncAPI 3.0.0: %v", err)
	}

	var parsed struct {
		Channels map[string]struct{ Address string } `json:"channels"`
	}
	_ = json.Unmarshal(doc, &parsed)
	for _, et := range events.EventTypes() {
		if got := parsed.Channels[et.Name].Address; got != topics.Event(et.Name) {
			t.Errorf("channel %s has address %q, want %q", et.Name, got, topics.Event(et.Name))
		}
	}

	// What each request should publish, and the subject of its event.
	want := map[string]string{} // stream name → subject
	follow := func(reqID string, code int, body map[string]any, status string) string {
		t.Helper()
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %v", reqID, code, body)
		}
		op := body["operation_id"].(string)
		e.Eventually(reqID+" ends "+status, func() bool { return e.OperationStatus(a.APIKey, op) == status })
		return op
	}
	call := func(reqID, method, path string, body any) (int, map[string]any) {
		t.Helper()
		code, _, out := e.CallWithRequestID(method, path, a.APIKey, reqID, body)
		return code, out
	}

	code, body := call("req-create", "POST", "/api/v1/memories", map[string]any{"content": "The user likes tea"})
	op := follow("req-create", code, body, "succeeded")
	want["MemoryCreated"] = "operations/" + op
	_, _, opBody := e.Call("GET", "/api/v1/operations/"+op, a.APIKey, nil)
	memID := opBody["memory_ids"].([]any)[0].(string)

	if code, body := call("req-search", "POST", "/api/v1/search", map[string]any{"query": "tea"}); code != http.StatusOK {
		t.Fatalf("search: %d %v", code, body)
	}
	want["MemoriesSearched"] = "apps/" + a.AppID
	if code, body := call("req-list", "GET", "/api/v1/memories", nil); code != http.StatusOK {
		t.Fatalf("list: %d %v", code, body)
	}
	want["MemoriesListed"] = "apps/" + a.AppID
	if code, body := call("req-get", "GET", "/api/v1/memories/"+memID, nil); code != http.StatusOK {
		t.Fatalf("get: %d %v", code, body)
	}
	want["MemoryRead"] = "memories/" + memID
	if code, body := call("req-history", "GET", "/api/v1/memories/"+memID+"/history", nil); code != http.StatusOK {
		t.Fatalf("history: %d %v", code, body)
	}
	want["MemoryHistoryRead"] = "memories/" + memID
	if code, body := call("req-export", "GET", "/api/v1/memories/export", nil); code != http.StatusOK || body["complete"] != true {
		t.Fatalf("export: %d %v", code, body)
	}
	want["MemoriesExported"] = "apps/" + a.AppID

	code, body = call("req-update", "PATCH", "/api/v1/memories/"+memID, map[string]any{"content": "The user likes green tea"})
	want["MemoryUpdated"] = "operations/" + follow("req-update", code, body, "succeeded")
	// The memory vanishes from the Memory Bank behind the service's back: an
	// update of it then fails, and a failure is an event too.
	if _, err := e.Pool().Exec(context.Background(), `DELETE FROM custom_gpt_embedded_memories WHERE id = $1`, memID); err != nil {
		t.Fatal(err)
	}
	code, body = call("req-update-gone", "PATCH", "/api/v1/memories/"+memID, map[string]any{"content": "The user likes no tea"})
	want["MemoryUpdateFailed"] = "operations/" + follow("req-update-gone", code, body, "failed")
	code, body = call("req-delete", "DELETE", "/api/v1/memories/"+memID, nil)
	want["MemoryDeleted"] = "operations/" + follow("req-delete", code, body, "succeeded")
	code, body = call("req-forget", "DELETE", "/api/v1/memories", nil)
	want["MemoriesForgotten"] = "operations/" + follow("req-forget", code, body, "succeeded")

	ctx := context.Background()
	rdb := redistest.Client(t)
	for name, subject := range want {
		stream := topics.Event(name)
		e.Eventually(name+" is on "+stream, func() bool {
			n, _ := rdb.XLen(ctx, stream).Result()
			return n > 0
		})
		entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
		if err != nil || len(entries) != 1 {
			t.Fatalf("%s: %d entries, %v", stream, len(entries), err)
		}
		fields := entries[0].Values
		var md map[string]string
		if err := json.Unmarshal([]byte(fields["metadata"].(string)), &md); err != nil {
			t.Fatalf("%s metadata: %v", name, err)
		}
		var payload map[string]any
		if err := json.Unmarshal([]byte(fields["payload"].(string)), &payload); err != nil {
			t.Fatalf("%s payload: %v", name, err)
		}

		ceType, _ := events.CloudEventType(name)
		for k, v := range map[string]string{
			events.CESpecVersion:     "1.0",
			events.CEID:              fields["_watermill_message_uuid"].(string),
			events.CESource:          "urn:custom-gpt-adapter:" + prefix,
			events.CEType:            ceType,
			events.CESubject:         subject,
			events.CEDataContentType: "application/json",
			"name":                   name,
		} {
			if md[k] != v || v == "" {
				t.Errorf("%s: %s = %q, want %q", name, k, md[k], v)
			}
		}
		// The client's X-Request-ID is the correlation id; the payload's
		// request_id is the service's own.
		if !strings.HasPrefix(md["correlation_id"], "req-") {
			t.Errorf("%s: correlation id %q is not the request's", name, md["correlation_id"])
		}
		if id, _ := payload["request_id"].(string); id == "" || strings.HasPrefix(id, "req-") {
			t.Errorf("%s: request_id %q is not the service's own", name, id)
		}
		at, err := time.Parse(time.RFC3339Nano, md[events.CETime])
		occurred, _ := time.Parse(time.RFC3339Nano, payload["occurred_at"].(string))
		if err != nil || !at.Equal(occurred) {
			t.Errorf("%s: ce_time %q, occurred_at %v: %v", name, md[events.CETime], payload["occurred_at"], err)
		}

		// The document's schemas accept the real entry.
		for part, v := range map[string]any{"payload": payload, "headers": anyMap(md)} {
			s, err := asyncapitest.Schema(doc, "/components/messages/"+name+"/"+part)
			if err != nil {
				t.Fatalf("%s %s schema: %v", name, part, err)
			}
			if err := s.Validate(v); err != nil {
				t.Errorf("%s: the %s schema refuses the real entry: %v", name, part, err)
			}
		}
	}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
