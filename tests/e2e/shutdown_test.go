package e2e

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Asked to stop while it writes a memory, a worker finishes that write (its
// call to the Memory Bank and its commit) before it exits: nothing is cut
// half-way and left for another worker's retry.
func TestWorkerFinishesInFlightWorkWhenAskedToStop(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Graceful GPT")
	e.Start("api")

	stop, askToStop := e.StartCancellable("worker")
	asked := make(chan struct{})
	e.Bank.AfterAdd(func() {
		e.Bank.AfterAdd(nil)
		askToStop() // as SIGTERM does, while the Memory Bank is answering
		close(asked)
	})
	code, _, body := e.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "finish me"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	// The command is queued just after the 202: wait until the worker is
	// writing, and was asked to stop meanwhile.
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never wrote the memory")
	}
	stop() // returns once the worker has exited
	if got := e.OperationStatus(app.APIKey, opID); got != "succeeded" {
		t.Fatalf("the worker exited leaving its write %s", got)
	}
	if n := e.Bank.Count(); n != 1 {
		t.Fatalf("the Memory Bank holds %d memories, want 1", n)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}

// The same with a real SIGTERM to a worker process, whose Memory Bank call is
// slow: the process waits for it (within CUSTOM_GPT_SHUTDOWN_GRACE), commits,
// and exits 0.
func TestWorkerProcessDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_SHUTDOWN_GRACE"] = "20s"
	app := e.CreateApp("SIGTERM GPT")
	e.Start("api")
	worker := harness.StartChild(t, e, "worker")

	release := make(chan struct{})
	e.Bank.AfterAdd(func() { <-release }) // the Memory Bank has stored it, and takes its time to answer
	code, _, body := e.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "drain me"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	e.Eventually("the Memory Bank holds the memory", func() bool { return e.Bank.Count() == 1 })
	if err := worker.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() { close(release) }) // answer after the signal
	select {
	case <-worker.Done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not exit")
	}
	if code := worker.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the worker exited with %d", code)
	}
	if got := e.OperationStatus(app.APIKey, opID); got != "succeeded" {
		t.Fatalf("the worker exited leaving its write %s", got)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}
