package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

// The fake mem0 runs in a child process (this program, re-executed), so its
// CPU is measured apart from the load generator's: it must not be what limits
// the rows that go through it.
const (
	mem0ChildEnv   = "CUSTOM_GPT_LOAD_CHILD"     // "mem0" in the child
	mem0KeyEnv     = "CUSTOM_GPT_LOAD_MEM0_KEY"  // the X-API-Key it accepts
	mem0URLFileEnv = "CUSTOM_GPT_LOAD_MEM0_FILE" // where it writes its base URL
)

func isMem0Child() bool { return os.Getenv(mem0ChildEnv) == "mem0" }

// mem0Errors marks the fake's complaints in its log: a request mem0 would
// have refused, or a route it does not have. Each one fails the run.
const mem0Errors = "mem0test:"

// serveMem0 is the child: the open-source flavor of internal/mem0test on a
// free loopback port, until SIGTERM or SIGINT.
func serveMem0() int {
	tb := &processTB{}
	srv := mem0test.NewServer(tb, memorybank.FlavorOSS)
	srv.SetAPIKey(os.Getenv(mem0KeyEnv))
	srv.SetRejectDeprecated(true)
	file := os.Getenv(mem0URLFileEnv)
	if err := os.WriteFile(file+".tmp", []byte(srv.URL()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	tb.runCleanups()
	return 0
}

// processTB lets mem0test, written for tests, serve in a plain process. It
// implements what the fake calls; the embedded nil testing.TB only supplies
// the interface's unexported method, and would panic at once if the fake
// started calling anything else.
type processTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

func (*processTB) Helper() {}

func (*processTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (*processTB) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (*processTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func (tb *processTB) Cleanup(f func()) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.cleanups = append(tb.cleanups, f)
}

func (tb *processTB) runCleanups() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}

// mem0 is the running fake, from the load program's side.
type mem0 struct {
	*process
	url string
	key string
}

// startMem0 re-executes this program as the fake mem0 and waits for its URL.
func startMem0(ctx context.Context, dir string) (*mem0, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	key := "load-" + randomHex(8)
	file := filepath.Join(dir, "mem0.url")
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), mem0ChildEnv+"=mem0", mem0KeyEnv+"="+key, mem0URLFileEnv+"="+file)
	p, err := startProcess("fake mem0", cmd, filepath.Join(dir, "mem0.log"), syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if raw, err := os.ReadFile(file); err == nil {
			return &mem0{process: p, url: strings.TrimSpace(string(raw)), key: key}, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the fake mem0 exited at start: %v\n%s", p.err, p.tail())
		case <-ctx.Done():
			_ = p.stop(syscall.SIGKILL, time.Second)
			return nil, context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.stop(syscall.SIGKILL, time.Second)
			return nil, fmt.Errorf("the fake mem0 wrote no URL within 30s\n%s", p.tail())
		}
	}
}

// complaints are the fake's error lines so far.
func (m *mem0) complaints() []string {
	raw, _ := os.ReadFile(m.log)
	var out []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.Contains(line, mem0Errors) {
			out = append(out, line)
		}
	}
	return out
}
