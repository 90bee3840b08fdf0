package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type deadLetterJSON struct {
	MessageID     string `json:"message_id"`
	Command       string `json:"command"`
	OperationID   string `json:"operation_id"`
	AppID         string `json:"app_id"`
	Reason        string `json:"reason"`
	OriginalTopic string `json:"original_topic"`
	ParkedAt      string `json:"parked_at"`
}

func (e *env) dlqList() []deadLetterJSON {
	e.t.Helper()
	out, err := e.cli("dlq", "list")
	if err != nil {
		e.t.Fatalf("dlq list: %v", err)
	}
	var list []deadLetterJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("dlq list printed %q: %v", out, err)
	}
	return list
}

// Commands that exhausted their retries are listed with their reasons; a
// replay reopens each operation and sends its command again, so that it ends
// succeeded with one succeeded audit entry, and leaves the list.
func TestDeadLettersListAndReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_RETRY_MAX"] = "0"
	e.vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1000"
	e.vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "30s" // no second consumer parks a command twice
	app := e.createApp("Poisoned GPT")
	e.start("serve")

	e.bank.FailNext(1_000_000, http.StatusInternalServerError)
	var ops []string
	for i := range 4 {
		ops = append(ops, e.acceptCreate(app.APIKey, fmt.Sprintf("parked %d", i)))
	}
	for _, op := range ops {
		e.eventually("operation "+op+" fails", func() bool { return e.operationStatus(app.APIKey, op) == "failed" })
		_, _, body := e.call("GET", "/api/v1/operations/"+op, app.APIKey, nil)
		if f := body["error"].(map[string]any); f["code"] != "retries-exhausted" {
			t.Fatalf("operation %s error %v", op, f)
		}
		assertOneTerminalAudit(t, e, op, "failed")
	}

	list := e.dlqList()
	if len(list) != 4 {
		t.Fatalf("dlq list shows %d entries, want 4: %+v", len(list), list)
	}
	byOp := map[string]deadLetterJSON{}
	for _, l := range list {
		byOp[l.OperationID] = l
		if l.MessageID == "" || l.Command != "CreateMemory" || l.AppID != app.AppID || l.ParkedAt == "" ||
			!strings.Contains(l.Reason, "500") || l.OriginalTopic != e.vars["CUSTOM_GPT_STREAM_PREFIX"]+".commands.CreateMemory" {
			t.Fatalf("dead letter %+v", l)
		}
	}
	for _, op := range ops {
		if _, ok := byOp[op]; !ok {
			t.Fatalf("operation %s is not listed", op)
		}
	}

	if _, err := e.cli("dlq", "replay", "1-1"); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	if _, err := e.cli("dlq", "replay", "not-an-id"); err == nil || !strings.Contains(err.Error(), "no dead letter") {
		t.Fatalf("replay of a malformed id: %v", err)
	}

	e.bank.FailNext(0, 0) // the bank recovers
	first := byOp[ops[0]]
	out, err := e.cli("dlq", "replay", first.MessageID)
	if err != nil || !strings.Contains(out, `"replayed":true`) {
		t.Fatalf("dlq replay %s: %q %v", first.MessageID, out, err)
	}
	e.eventually("the replayed operation succeeds", func() bool { return e.operationStatus(app.APIKey, ops[0]) == "succeeded" })
	assertOneTerminalAudit(t, e, ops[0], "succeeded")
	if rest := e.dlqList(); len(rest) != 3 || slices.ContainsFunc(rest, func(l deadLetterJSON) bool { return l.OperationID == ops[0] }) {
		t.Fatalf("after one replay the list is %+v", rest)
	}
	// Its entry is gone: replaying it again is an unknown id.
	if _, err := e.cli("dlq", "replay", first.MessageID); err == nil {
		t.Fatal("a replayed entry was replayed twice")
	}

	// One is dropped instead: it stays failed and is not replayed.
	if out, err := e.cli("dlq", "drop", byOp[ops[3]].MessageID); err != nil || !strings.Contains(out, `"dropped":true`) {
		t.Fatalf("dlq drop: %q %v", out, err)
	}
	if out, err := e.cli("dlq", "replay", "--all"); err != nil || strings.Count(out, `"replayed":true`) != 2 {
		t.Fatalf("dlq replay --all: %q %v", out, err)
	}
	for _, op := range ops[1:3] {
		e.eventually("operation "+op+" succeeds", func() bool { return e.operationStatus(app.APIKey, op) == "succeeded" })
		assertOneTerminalAudit(t, e, op, "succeeded")
	}
	if rest := e.dlqList(); len(rest) != 0 {
		t.Fatalf("after replaying all the list is %+v", rest)
	}
	if n := e.bank.Count(); n != 3 {
		t.Fatalf("the bank holds %d memories, want one per replayed operation", n)
	}
	if s := e.operationStatus(app.APIKey, ops[3]); s != "failed" {
		t.Fatalf("the dropped operation is %s, want failed", s)
	}
	if out, err := e.cli("dlq", "replay", "--all"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("replaying an empty list: %q %v", out, err)
	}
}
