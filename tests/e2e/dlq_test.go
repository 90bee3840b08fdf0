package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Commands that exhausted their retries are listed with their reasons; a
// replay reopens each operation and sends its command again, so that it ends
// succeeded with one succeeded audit entry, and leaves the list.
func TestDeadLettersListAndReplay(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "0"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1000"
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "30s" // no second consumer parks a command twice
	app := e.CreateApp("Poisoned GPT")
	e.Start("serve")

	e.Bank.FailNext(1_000_000, http.StatusInternalServerError)
	var ops []string
	for i := range 4 {
		ops = append(ops, e.AcceptCreate(app.APIKey, fmt.Sprintf("parked %d", i)))
	}
	for _, op := range ops {
		e.Eventually("operation "+op+" fails", func() bool { return e.OperationStatus(app.APIKey, op) == "failed" })
		_, _, body := e.Call("GET", "/api/v1/operations/"+op, app.APIKey, nil)
		if f := body["error"].(map[string]any); f["code"] != "retries-exhausted" {
			t.Fatalf("operation %s error %v", op, f)
		}
		assertOneTerminalAudit(t, e, op, "failed")
	}

	list := e.DlqList()
	if len(list) != 4 {
		t.Fatalf("dlq list shows %d entries, want 4: %+v", len(list), list)
	}
	byOp := map[string]harness.DeadLetterJSON{}
	for _, l := range list {
		byOp[l.OperationID] = l
		if l.MessageID == "" || l.Command != "CreateMemory" || l.AppID != app.AppID || l.ParkedAt == "" ||
			!strings.Contains(l.Reason, "500") || l.OriginalTopic != e.Vars["CUSTOM_GPT_STREAM_PREFIX"]+".commands.CreateMemory" {
			t.Fatalf("dead letter %+v", l)
		}
	}
	for _, op := range ops {
		if _, ok := byOp[op]; !ok {
			t.Fatalf("operation %s is not listed", op)
		}
	}

	if _, err := e.RunCLI("dlq", "replay", "1-1"); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	if _, err := e.RunCLI("dlq", "replay", "not-an-id"); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Fatalf("replay of a malformed id: %v", err)
	}

	e.Bank.FailNext(0, 0) // the bank recovers
	first := byOp[ops[0]]
	out, err := e.RunCLI("dlq", "replay", first.MessageID)
	if err != nil || !strings.Contains(out, `"replayed":true`) {
		t.Fatalf("dlq replay %s: %q %v", first.MessageID, out, err)
	}
	e.Eventually("the replayed operation succeeds", func() bool { return e.OperationStatus(app.APIKey, ops[0]) == "succeeded" })
	assertOneTerminalAudit(t, e, ops[0], "succeeded")
	if rest := e.DlqList(); len(rest) != 3 || slices.ContainsFunc(rest, func(l harness.DeadLetterJSON) bool { return l.OperationID == ops[0] }) {
		t.Fatalf("after one replay the list is %+v", rest)
	}
	// Its entry is gone: replaying it again is an unknown id.
	if _, err := e.RunCLI("dlq", "replay", first.MessageID); err == nil {
		t.Fatal("a replayed entry was replayed twice")
	}

	// One is dropped instead: it stays failed and is not replayed.
	if out, err := e.RunCLI("dlq", "drop", byOp[ops[3]].MessageID); err != nil || !strings.Contains(out, `"dropped":true`) {
		t.Fatalf("dlq drop: %q %v", out, err)
	}
	if out, err := e.RunCLI("dlq", "replay", "--all"); err != nil || strings.Count(out, `"replayed":true`) != 2 {
		t.Fatalf("dlq replay --all: %q %v", out, err)
	}
	for _, op := range ops[1:3] {
		e.Eventually("operation "+op+" succeeds", func() bool { return e.OperationStatus(app.APIKey, op) == "succeeded" })
		assertOneTerminalAudit(t, e, op, "succeeded")
	}
	if rest := e.DlqList(); len(rest) != 0 {
		t.Fatalf("after replaying all the list is %+v", rest)
	}
	if n := e.Bank.Count(); n != 3 {
		t.Fatalf("the bank holds %d memories, want one per replayed operation", n)
	}
	if s := e.OperationStatus(app.APIKey, ops[3]); s != "failed" {
		t.Fatalf("the dropped operation is %s, want failed", s)
	}
	if out, err := e.RunCLI("dlq", "replay", "--all"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("replaying an empty list: %q %v", out, err)
	}
	// Each replay reopened an ended entry and ended it again: each change is
	// a link of its own (4 failures, 3 reopens, 3 successes), and the chain holds.
	outcomes, err := auditVerify(t, e, "--app", app.AppID)
	if err != nil || len(outcomes) != 1 || !outcomes[0].Intact || outcomes[0].Links != 10 {
		t.Fatalf("audit verify after the replays: %+v %v", outcomes, err)
	}
}
