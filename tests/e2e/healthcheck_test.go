package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// healthcheck exits 0 while the API (or, with --worker, the worker's health
// endpoint) answers /healthz, and non-zero, saying why, when it does not.
func TestHealthcheckExitStatus(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	wantExit := func(what string, wantOK bool, wantSays string, args ...string) {
		t.Helper()
		code, stderr := e.RunMain(args...)
		if (code == 0) != wantOK || !strings.Contains(stderr, wantSays) {
			t.Fatalf("%s: healthcheck %v exited %d, stderr %q", what, args, code, stderr)
		}
	}

	wantExit("nothing started", false, "connection refused", "healthcheck")
	stop := e.Start("api")
	wantExit("the API up", true, "", "healthcheck")
	wantExit("no worker address", false, "CUSTOM_GPT_WORKER_ADDR is not set", "healthcheck", "--worker")
	stop()
	wantExit("the API stopped", false, "connection refused", "healthcheck")

	workerAddr := addrtest.ReserveTCP(t)
	w := e.With(map[string]string{"CUSTOM_GPT_WORKER_ADDR": workerAddr})
	w.Start("worker") // waits until it answers /healthz
	if code, stderr := w.RunMain("healthcheck", "--worker"); code != 0 {
		t.Fatalf("worker up: healthcheck --worker exited %d, stderr %q", code, stderr)
	}
	// The worker's listener is its operators', like the admin one: it has Go's profiles.
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/allocs"} {
		if code, _ := adminCall(t, http.DefaultClient, "http://"+workerAddr+path, "", nil); code != http.StatusOK {
			t.Errorf("worker listener %s: %d, want 200", path, code)
		}
	}
}
