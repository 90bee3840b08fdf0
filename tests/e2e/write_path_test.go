package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A normal write is published only once its operation has committed, so the
// worker never finds it missing: each runs once (one attempt), and nothing
// is logged at ERROR.
func TestNormalWritesRunOnceAndLogNoError(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Logs = &harness.LogLines{}
	a := e.CreateApp("Quiet GPT")
	e.Start("serve")

	var ops []string
	for i := range 20 {
		ops = append(ops, e.AcceptCreate(a.APIKey, fmt.Sprintf("an ordinary fact %d", i)))
	}
	ops = append(ops, e.Accept("DELETE", "/api/v1/memories", a.APIKey, nil))
	db := e.Pool()
	for _, op := range ops {
		e.Succeeded(a.APIKey, op)
		var attempts int
		if err := db.QueryRow(context.Background(), `SELECT attempts FROM custom_gpt_operations WHERE id = $1`, op).Scan(&attempts); err != nil {
			t.Fatal(err)
		}
		if attempts != 1 {
			t.Errorf("operation %s took %d attempts, want 1", op, attempts)
		}
	}
	if lines := e.Logs.Matching(`"level":"ERROR"`); len(lines) != 0 {
		t.Fatalf("normal writes logged errors:\n%s", strings.Join(lines, "\n"))
	}
}

// A command whose payload cannot be read fails its operation with the reason
// at once, instead of being retried, parked and left pending forever.
func TestUndecodableCommandFailsItsOperation(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RESEND_AFTER"] = "1h" // the stored command is not sent again meanwhile
	a := e.CreateApp("Garbled GPT")
	e.Start("api")

	opID := e.AcceptCreate(a.APIKey, "a fact whose command is garbled on the way")
	// What a bug in an older release, or a hand-edited stream, could leave.
	rdb := harness.RedisClientAt(t, e.Vars["CUSTOM_GPT_REDIS_URL"])
	stream := e.Vars["CUSTOM_GPT_STREAM_PREFIX"] + ".commands.CreateMemory"
	ctx := context.Background()
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("the stream holds %v: %v", entries, err)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(entries[0].Values["payload"].(string)), &payload); err != nil || payload["operation_id"] != opID {
		t.Fatalf("command payload %v: %v", entries[0].Values["payload"], err)
	}
	payload["content"] = 42
	garbled, _ := json.Marshal(payload)
	values := entries[0].Values
	values["payload"] = string(garbled)
	if err := rdb.XDel(ctx, stream, entries[0].ID).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: values}).Err(); err != nil {
		t.Fatal(err)
	}

	e.Start("worker")
	op := e.Finished(a.APIKey, opID)
	if f, _ := op["error"].(map[string]any); op["status"] != "failed" || f["code"] != "command-undecodable" || !strings.Contains(f["detail"].(string), "content") {
		t.Fatalf("the garbled command's operation ended %v", op)
	}
	if letters := e.DlqList(); len(letters) != 0 {
		t.Fatalf("the garbled command was parked: %+v", letters)
	}
	if n := e.Bank.Count(); n != 0 {
		t.Fatalf("the Memory Bank holds %d memories", n)
	}
	assertOneTerminalAudit(t, e, opID, "failed")
}

// Acknowledged commands are trimmed from their streams: Redis does not grow
// with every write, and keeps no text of what was forgotten.
func TestAcknowledgedCommandsAreTrimmed(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a := e.CreateApp("Trimmed GPT")
	e.Start("serve")

	const secret = "the user's door code is 4711"
	e.Succeeded(a.APIKey, e.AcceptCreate(a.APIKey, secret))
	e.Succeeded(a.APIKey, e.Accept("DELETE", "/api/v1/memories", a.APIKey, nil))

	rdb := harness.RedisClientAt(t, e.Vars["CUSTOM_GPT_REDIS_URL"])
	prefix := e.Vars["CUSTOM_GPT_STREAM_PREFIX"] + ".commands."
	e.Eventually("the command streams are trimmed", func() bool {
		for _, name := range []string{"CreateMemory", "ForgetMemories"} {
			n, err := rdb.XLen(context.Background(), prefix+name).Result()
			if err != nil || n != 0 {
				return false
			}
		}
		return true
	})
	keys, err := rdb.Keys(context.Background(), e.Vars["CUSTOM_GPT_STREAM_PREFIX"]+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if typ, _ := rdb.Type(context.Background(), k).Result(); typ != "stream" {
			continue
		}
		entries, err := rdb.XRange(context.Background(), k, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range entries {
			if b, _ := json.Marshal(x.Values); strings.Contains(string(b), "door code") {
				t.Errorf("%s still holds the forgotten text: %s", k, b)
			}
		}
	}
}
