package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
)

// runMain runs the binary's main in a process of its own with the
// deployment's variables (see TestMain) and returns its exit status and
// standard error.
func (e *env) runMain(args ...string) (int, string) {
	e.t.Helper()
	encoded, err := json.Marshal(args)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"=main", mainArgsEnv+"="+string(encoded))
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	e.t.Fatalf("run %v: %v", args, err)
	return 0, ""
}

// healthcheck exits 0 while the API (or, with --worker, the worker's health
// endpoint) answers /healthz, and non-zero, saying why, when it does not.
func TestHealthcheckExitStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	wantExit := func(what string, wantOK bool, wantSays string, args ...string) {
		t.Helper()
		code, stderr := e.runMain(args...)
		if (code == 0) != wantOK || !strings.Contains(stderr, wantSays) {
			t.Fatalf("%s: healthcheck %v exited %d, stderr %q", what, args, code, stderr)
		}
	}

	wantExit("nothing started", false, "connection refused", "healthcheck")
	stop := e.start("api")
	wantExit("the API up", true, "", "healthcheck")
	wantExit("no worker address", false, "CUSTOM_GPT_WORKER_ADDR is not set", "healthcheck", "--worker")
	stop()
	wantExit("the API stopped", false, "connection refused", "healthcheck")

	w := e.with(map[string]string{"CUSTOM_GPT_WORKER_ADDR": addrtest.ReserveTCP(t)})
	w.start("worker") // waits until it answers /healthz
	if code, stderr := w.runMain("healthcheck", "--worker"); code != 0 {
		t.Fatalf("worker up: healthcheck --worker exited %d, stderr %q", code, stderr)
	}
}
