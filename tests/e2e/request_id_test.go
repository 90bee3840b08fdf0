package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A client's X-Request-ID is its correlation id, never the audit's request id:
// the service makes every request id itself, so a client can neither choose
// one nor make two requests share one (issue 10 item 7).
func TestClientCannotChooseTheAuditRequestID(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Travel GPT")
	e.Start("serve")

	// Two requests with the same X-Request-ID, and a third that sends the
	// request id the service gave the first, as if to pass for it.
	code, first, body := e.CallWithRequestID("POST", "/api/v1/search", app.APIKey, "dup-id", map[string]any{"query": "tea"})
	if code != http.StatusOK || body["request_id"] != first.Get("X-Request-ID") {
		t.Fatalf("search: %d %v, X-Request-ID %q", code, body, first.Get("X-Request-ID"))
	}
	code, second, body := e.CallWithRequestID("POST", "/api/v1/memories", app.APIKey, "dup-id", map[string]any{"content": "The user likes tea"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	victimID := first.Get("X-Request-ID")
	code, third, body := e.CallWithRequestID("POST", "/api/v1/search", app.APIKey, victimID, map[string]any{"query": "tea"})
	if code != http.StatusOK {
		t.Fatalf("search: %d %v", code, body)
	}
	ids := map[string]bool{}
	for _, h := range []http.Header{first, second, third} {
		id := h.Get("X-Request-ID")
		if id == "" || id == "dup-id" || ids[id] {
			t.Fatalf("request ids %v then %q: chosen by the client or repeated", ids, id)
		}
		ids[id] = true
	}

	_, _, audit := e.Call("GET", "/admin/v1/audit?app_id="+app.AppID, harness.AdminToken, nil)
	entries, _ := audit["entries"].([]any)
	if len(entries) != 3 {
		t.Fatalf("audit: %v", audit)
	}
	seen := map[string]string{} // request id → correlation id
	for _, x := range entries {
		m := x.(map[string]any)
		id, _ := m["request_id"].(string)
		if _, dup := seen[id]; dup || !ids[id] {
			t.Errorf("audit request_id %q is not one the service made, or repeats", id)
		}
		seen[id], _ = m["correlation_id"].(string)
	}
	want := map[string]string{victimID: "dup-id", second.Get("X-Request-ID"): "dup-id", third.Get("X-Request-ID"): victimID}
	for id, corr := range want {
		if seen[id] != corr {
			t.Errorf("audit entry %s has correlation_id %q, want the client's %q", id, seen[id], corr)
		}
	}

	// Events carry the client's value as their correlation id and the
	// service's as request_id.
	rdb := redistest.Client(t)
	stream := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}.Event("MemoriesSearched")
	e.Eventually("both searches are on "+stream, func() bool {
		n, _ := rdb.XLen(context.Background(), stream).Result()
		return n == 2
	})
	entriesOnStream, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range entriesOnStream {
		var md map[string]string
		var payload events.MemoriesSearched
		_ = json.Unmarshal([]byte(m.Values["metadata"].(string)), &md)
		_ = json.Unmarshal([]byte(m.Values["payload"].(string)), &payload)
		if corr, ok := want[payload.RequestID]; !ok || md["correlation_id"] != corr {
			t.Errorf("MemoriesSearched request_id %q, correlation_id %q", payload.RequestID, md["correlation_id"])
		}
	}
}
