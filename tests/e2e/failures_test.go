package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A Memory Bank that refuses a memory (4xx) fails the operation at once with
// the reason; one that stays down makes the command exhaust its retries, land
// on the poison stream and fail its operation; searches answer 503 meanwhile.
func TestMemoryBankFailuresEndOperations(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	// No claiming of slow deliveries by a second consumer here: on a loaded
	// machine it could park one command twice, and this test counts the stream.
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "30s"
	// The breaker stays closed: an open one would hold the command queued
	// (see protect_test.go) instead of letting it exhaust its retries.
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "100"
	app := e.CreateApp("Failing GPT")
	e.Start("serve")

	create := func(content string) string {
		code, _, body := e.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": content})
		if code != http.StatusAccepted {
			t.Fatalf("create: %d %v", code, body)
		}
		return body["operation_id"].(string)
	}
	waitFailed := func(opID string) map[string]any {
		e.Eventually("operation "+opID+" fails", func() bool { return e.OperationStatus(app.APIKey, opID) == "failed" })
		_, _, op := e.Call("GET", "/api/v1/operations/"+opID, app.APIKey, nil)
		return op["error"].(map[string]any)
	}

	e.Bank.FailNext(1, http.StatusBadRequest)
	rejected := create("refused by the bank")
	if f := waitFailed(rejected); f["code"] != "memory-bank-rejected" || f["detail"] == "" {
		t.Fatalf("rejected operation error %v", f)
	}
	assertOneTerminalAudit(t, e, rejected, "failed")

	e.Bank.SetDown(true)
	code, hdr, body := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || body["type"] != "urn:custom-gpt-adapter:problem:memory-bank-unavailable" {
		t.Fatalf("search while the bank is down: %d %v", code, body)
	}
	exhausted := create("the bank is down")
	if f := waitFailed(exhausted); f["code"] != "retries-exhausted" {
		t.Fatalf("exhausted operation error %v", f)
	}
	assertOneTerminalAudit(t, e, exhausted, "failed")
	if n := e.Bank.Count(); n != 0 {
		t.Fatalf("the bank holds %d memories", n)
	}

	rdb := redistest.Client(t)
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	if n, _ := rdb.XLen(context.Background(), topics.Poison()).Result(); n != 1 {
		t.Fatalf("poison stream holds %d commands, want 1", n)
	}
	e.Eventually("both failures are published", func() bool {
		n, _ := rdb.XLen(context.Background(), topics.Event("MemoryCreationFailed")).Result()
		return n == 2
	})

	// Back up: new work succeeds.
	e.Bank.SetDown(false)
	ok := create("the bank is back")
	e.Eventually("a create after recovery succeeds", func() bool { return e.OperationStatus(app.APIKey, ok) == "succeeded" })
}
