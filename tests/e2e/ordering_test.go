package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// bankTexts is what the Memory Bank holds of one application's scope.
func bankTexts(e *harness.Deployment, appID string) []string {
	var out []string
	for _, m := range e.Bank.Memories() {
		if m.UserID == appID {
			out = append(out, m.Memory)
		}
	}
	slices.Sort(out)
	return out
}

// Writes of one scope take effect in the order they were accepted, though
// each kind of command has its own stream, two worker processes take them
// eight at a time, and adds are slow: a forget accepted after a create
// removes it, a create accepted after a forget survives it, and of two
// updates of one memory the later one stays.
func TestWritesOfOneScopeTakeEffectInOrder(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-oss", "mem0-platform"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			// An add takes mem0 a while (an LLM call when it infers), so a
			// forget sent after it reaches its own stream's worker first.
			e.Bank.AfterAdd(func() { time.Sleep(40 * time.Millisecond) })
			const apps = 4
			creds := make([]harness.AppCreds, apps)
			for i := range creds {
				creds[i] = e.CreateApp(fmt.Sprintf("Ordered GPT %d", i))
			}
			e.Start("serve")
			e.Start("worker")

			for i, a := range creds {
				t.Run(fmt.Sprintf("app%d", i), func(t *testing.T) {
					t.Parallel()
					e := e.ForTest(t)
					for round := range 3 {
						before := e.Accept("POST", "/api/v1/memories", a.APIKey, map[string]any{"content": fmt.Sprintf("stored before forget %d", round)})
						forget := e.Accept("DELETE", "/api/v1/memories", a.APIKey, nil)
						after := e.Accept("POST", "/api/v1/memories", a.APIKey, map[string]any{"content": fmt.Sprintf("stored after forget %d", round)})

						e.Succeeded(a.APIKey, before)
						// What was stored before it: this round's memory, and the last round's survivor.
						want := 2
						if round == 0 {
							want = 1
						}
						if op := e.Succeeded(a.APIKey, forget); op["removed"] != float64(want) {
							t.Fatalf("round %d: the forget removed %v, want %d", round, op["removed"], want)
						}
						kept := e.Succeeded(a.APIKey, after)["memory_ids"].([]any)[0].(string)
						if got := bankTexts(e, a.AppID); !slices.Equal(got, []string{fmt.Sprintf("stored after forget %d", round)}) {
							t.Fatalf("round %d: the Memory Bank holds %q", round, got)
						}

						first := e.Accept("PATCH", "/api/v1/memories/"+kept, a.APIKey, map[string]any{"content": fmt.Sprintf("first correction %d", round)})
						second := e.Accept("PATCH", "/api/v1/memories/"+kept, a.APIKey, map[string]any{"content": fmt.Sprintf("second correction %d", round)})
						e.Succeeded(a.APIKey, first)
						e.Succeeded(a.APIKey, second)
						if _, _, got := e.Call("GET", "/api/v1/memories/"+kept, a.APIKey, nil); got["content"] != fmt.Sprintf("second correction %d", round) {
							t.Fatalf("round %d: after two corrections the memory is %v", round, got)
						}
					}
				})
			}
		})
	}
}

// A dead letter replayed after newer writes of its scope cannot undo them:
// an older correction ends failed as superseded and stays unapplied, and a
// create accepted before a forget that has since run cannot be replayed.
func TestReplayedDeadLetterCannotUndoANewerWrite(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "0"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1000"
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "30s"
	a := e.CreateApp("Replayed GPT")
	e.Start("serve")

	m := e.Succeeded(a.APIKey, e.AcceptCreate(a.APIKey, "the user lives in Lyon"))["memory_ids"].([]any)[0].(string)

	// parked fails the next write, which the Memory Bank refuses, into the
	// dead letters, and returns its dead letter's id.
	parked := func(method, path string, body any) (opID, letter string) {
		t.Helper()
		e.Bank.FailNext(1_000_000, http.StatusServiceUnavailable)
		opID = e.Accept(method, path, a.APIKey, body)
		if op := e.Finished(a.APIKey, opID); op["status"] != "failed" {
			t.Fatalf("the write meant to park ended %v", op)
		}
		e.Bank.FailNext(0, 0)
		for _, l := range e.DlqList() {
			if l.OperationID == opID {
				return opID, l.MessageID
			}
		}
		t.Fatalf("operation %s is not in the dead letters", opID)
		return "", ""
	}
	replay := func(letter, opID string) map[string]any {
		t.Helper()
		if _, err := e.RunCLI("dlq", "replay", letter); err != nil {
			t.Fatalf("dlq replay: %v", err)
		}
		var op map[string]any
		e.Eventually("the replayed operation ends again", func() bool {
			_, _, op = e.Call("GET", "/api/v1/operations/"+opID, a.APIKey, nil)
			return op["status"] == "failed" && op["error"].(map[string]any)["code"] != "retries-exhausted" || op["status"] == "succeeded"
		})
		return op
	}

	older, letter := parked("PATCH", "/api/v1/memories/"+m, map[string]any{"content": "the user lives in Paris"})
	e.Succeeded(a.APIKey, e.Accept("PATCH", "/api/v1/memories/"+m, a.APIKey, map[string]any{"content": "the user lives in Berlin"}))
	if op := replay(letter, older); op["status"] != "failed" || op["error"].(map[string]any)["code"] != "superseded" {
		t.Fatalf("the replayed older correction ended %v", op)
	}
	if _, _, got := e.Call("GET", "/api/v1/memories/"+m, a.APIKey, nil); got["content"] != "the user lives in Berlin" {
		t.Fatalf("after the replay the memory is %v", got)
	}

	// A create parked before a forget: the forget removes its dead letter
	// with the rest of the scope's text, so it cannot be replayed to bring the
	// memory back. (Replayed before the purge, it would end superseded: see
	// TestOrder_replayedCreateOlderThanAForgetIsSuperseded.)
	create, letter := parked("POST", "/api/v1/memories", map[string]any{"content": "the user has a cat"})
	e.Succeeded(a.APIKey, e.Accept("DELETE", "/api/v1/memories", a.APIKey, nil))
	e.Eventually("the forget purges the parked create", func() bool { return len(e.DlqList()) == 0 })
	if _, err := e.RunCLI("dlq", "replay", letter); err == nil {
		t.Fatal("the purged create was replayed")
	}
	if op := e.Finished(a.APIKey, create); op["status"] != "failed" {
		t.Fatalf("the parked create ended %v", op)
	}
	if got := bankTexts(e, a.AppID); len(got) != 0 {
		t.Fatalf("after the forget the Memory Bank holds %q", got)
	}
}
