package e2e

import (
	"context"
	"net/http"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// The same CreateMemory delivered twice (here: two stream entries, handled by
// concurrent consumers) stores one memory and writes one terminal audit entry.
func TestDuplicateCommandStoresOnce(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Duplicate GPT")
	e.Start("api")

	code, _, body := e.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "remember me once"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)

	ctx := context.Background()
	rdb := redistest.Client(t)
	stream := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}.Command("CreateMemory")
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("command stream: %v %d entries", err, len(entries))
	}
	for range 2 {
		if err := rdb.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: entries[0].Values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	e.Start("worker")

	e.Eventually("the operation succeeds", func() bool { return e.OperationStatus(app.APIKey, opID) == "succeeded" })
	group := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}.ConsumerGroup("CreateMemory")
	e.Eventually("every copy is handled and acknowledged", func() bool {
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		if err != nil || len(groups) != 1 {
			return false
		}
		return groups[0].Name == group && groups[0].Lag == 0 && groups[0].Pending == 0 && groups[0].EntriesRead == 3
	})
	if n := e.Bank.Count(); n != 1 {
		t.Fatalf("the Memory Bank holds %d memories, want 1", n)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}

func assertOneTerminalAudit(t *testing.T, e *harness.Deployment, opID, status string) {
	t.Helper()
	_, _, audit := e.Call("GET", "/admin/v1/audit", harness.AdminToken, nil)
	var n int
	for _, x := range audit["entries"].([]any) {
		m := x.(map[string]any)
		if m["operation_id"] == opID {
			n++
			if m["status"] != status {
				t.Fatalf("audit entry %v, want status %s", m, status)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d audit entries for operation %s, want 1", n, opID)
	}
}

// A worker stopped after the Memory Bank stored the memory but before the worker
// committed the outcome (stopped with no grace left: its work is cut): another
// worker finishes the operation with that same memory, and nothing is stored
// or audited twice.
func TestWorkerStoppedBeforeCommitStoresOnce(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Crash GPT")
	e.Start("api")

	first, cancelFirst := e.With(map[string]string{"CUSTOM_GPT_SHUTDOWN_GRACE": "1ms"}).StartCancellable("worker")
	e.Bank.AfterAdd(func() {
		e.Bank.AfterAdd(nil)
		// The worker is told to stop, and the answer held until it has: its
		// grace (1 ms) ends, its call is cut, and it never hears the answer.
		// Sent at once, the answer could reach it within the grace, and it
		// would commit the outcome itself.
		cancelFirst()
		first()
	})
	code, _, body := e.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "survive the crash"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	e.Eventually("the Memory Bank holds the memory", func() bool { return e.Bank.Count() == 1 })
	first() // the first worker has stopped (the hook waited for it)
	if got := e.OperationStatus(app.APIKey, opID); got != "pending" {
		t.Fatalf("the stopped worker finished the operation (%s): the test did not stop it before its commit", got)
	}

	e.Start("worker")
	e.Eventually("another worker finishes the operation", func() bool { return e.OperationStatus(app.APIKey, opID) == "succeeded" })
	_, _, op := e.Call("GET", "/api/v1/operations/"+opID, app.APIKey, nil)
	stored := e.Bank.Memories()
	if n := len(stored); n != 1 {
		t.Fatalf("the Memory Bank holds %d memories, want 1", n)
	}
	if ids := op["memory_ids"].([]any); len(ids) != 1 || ids[0] != stored[0].ID {
		t.Fatalf("operation memory ids %v, stored %s", ids, stored[0].ID)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}
