package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

// Asked to stop while it writes a memory, a worker finishes that write (its
// call to the Memory Bank and its commit) before it exits: nothing is cut
// half-way and left for another worker's retry.
func TestWorkerFinishesInFlightWorkWhenAskedToStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.createApp("Graceful GPT")
	e.start("api")

	stop, askToStop := e.startCancellable("worker")
	e.bank.AfterAdd(func() {
		e.bank.AfterAdd(nil)
		askToStop() // as SIGTERM does, while the Memory Bank is answering
	})
	code, _, body := e.call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "finish me"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	stop() // returns once the worker has exited
	if got := e.operationStatus(app.APIKey, opID); got != "succeeded" {
		t.Fatalf("the worker exited leaving its write %s", got)
	}
	if n := e.bank.Count(); n != 1 {
		t.Fatalf("the Memory Bank holds %d memories, want 1", n)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}

// The same with a real SIGTERM to a worker process, whose Memory Bank call is
// slow: the process waits for it (within CUSTOM_GPT_SHUTDOWN_GRACE), commits,
// and exits 0.
func TestWorkerProcessDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_SHUTDOWN_GRACE"] = "20s"
	app := e.createApp("SIGTERM GPT")
	e.start("api")
	worker := startChild(t, e, "worker")

	release := make(chan struct{})
	e.bank.AfterAdd(func() { <-release }) // the Memory Bank has stored it, and takes its time to answer
	code, _, body := e.call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "drain me"})
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	e.eventually("the Memory Bank holds the memory", func() bool { return e.bank.Count() == 1 })
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() { close(release) }) // answer after the signal
	select {
	case <-worker.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not exit")
	}
	if code := worker.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the worker exited with %d", code)
	}
	if got := e.operationStatus(app.APIKey, opID); got != "succeeded" {
		t.Fatalf("the worker exited leaving its write %s", got)
	}
	assertOneTerminalAudit(t, e, opID, "succeeded")
}
