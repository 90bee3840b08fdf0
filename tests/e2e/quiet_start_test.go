package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// At the default log level a serve process, started as the binary starts,
// says in a few lines what it is and where it listens, nothing more; on
// SIGINT it drains and exits 0 (what Ctrl-C on `go tool task run` needs).
func TestServeStartsQuietlyAndStopsCleanlyOnSIGINT(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	delete(e.Vars, "CUSTOM_GPT_LOG_LEVEL") // the default
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	serve := startProcess(t, e, "serve")
	e.Eventually("the api answers /healthz and the workers run", func() bool {
		if !strings.Contains(serve.stderr.String(), `"msg":"worker running"`) {
			return false
		}
		resp, err := http.Get(e.Base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err := serve.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-serve.done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGINT")
	}
	if code := serve.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("serve exited with %d after SIGINT:\n%s", code, serve.stderr.String())
	}

	lines := strings.Split(strings.TrimSpace(serve.stderr.String()), "\n")
	stop := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, `"msg":"shutting down"`) })
	if stop < 0 {
		t.Fatalf("no shutting down line in %d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	start := lines[:stop]
	if len(start) > 10 {
		t.Errorf("the start logged %d lines, want at most 10:\n%s", len(start), strings.Join(start, "\n"))
	}
	msgs := map[string]map[string]any{}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("not a JSON log line: %q", l)
			continue
		}
		if rec["level"] == "ERROR" {
			t.Errorf("logged an error: %s", l)
		}
		msgs[rec["msg"].(string)] = rec
	}
	for msg, attr := range map[string]string{
		"starting":       "version",
		"memory bank":    "flavor",
		"database ready": "migrations_applied",
		"http listening": "addr",
		"worker running": "consumer",
		"stopped":        "",
	} {
		rec, ok := msgs[msg]
		if !ok {
			t.Errorf("no %q line", msg)
			continue
		}
		if _, ok := rec[attr]; attr != "" && !ok {
			t.Errorf("%q says no %s: %v", msg, attr, rec)
		}
	}
	if got := msgs["http listening"]["addr"]; got != e.Vars["CUSTOM_GPT_HTTP_ADDR"] {
		t.Errorf("listening on %v, want %s", got, e.Vars["CUSTOM_GPT_HTTP_ADDR"])
	}
	if got := msgs["memory bank"]["flavor"]; got != "embedded" {
		t.Errorf("memory bank flavor %v, want embedded", got)
	}
}

// Admin commands say nothing of the Memory Bank: its warning is for the
// processes that use it.
func TestAdminCommandsOmitTheMemoryBankWarning(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	delete(e.Vars, "CUSTOM_GPT_LOG_LEVEL")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	var out, logs strings.Builder
	if err := harness.Run(context.Background(), []string{"apps", "list"}, e.Getenv, &out, &logs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(logs.String()), "memory bank") {
		t.Errorf("apps list logged about the Memory Bank:\n%s", logs.String())
	}
}

// process is a command of the binary running in a process of its own.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer // complete once done is closed
	done   chan struct{}
}

// startProcess runs `role` as the binary's main would (see runChild), with
// the deployment's variables, killing it at cleanup if the test did not stop it.
func startProcess(t *testing.T, e *harness.Deployment, role string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() { // the deployment's settings only
		if !strings.HasPrefix(kv, "CUSTOM_GPT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, harness.ChildRoleEnv+"="+role)
	for k, v := range e.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe() // held open: the child stops when it closes
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = stdin.Close()
	})
	return p
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
