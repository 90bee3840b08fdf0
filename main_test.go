package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

const adminToken = "test-admin-token-0123456789"

// env is one test deployment: its own database, stream prefix and HTTP port.
type env struct {
	t    testing.TB
	vars map[string]string
	base string // http://127.0.0.1:port
	bank *mem0test.Server
	db   *pgxpool.Pool
	// logs, when set, keeps every log line of the processes started.
	logs *logLines
}

// logLines keeps log lines, for tests of what a process logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// matching returns the lines holding substr.
func (l *logLines) matching(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// newEnv prepares a deployment against flavor ("embedded" for no mem0 URL).
func newEnv(t testing.TB, flavor string) *env {
	t.Helper()
	e := &env{t: t, vars: map[string]string{
		"CUSTOM_GPT_DATABASE_URL":             pgtest.NewURL(t),
		"CUSTOM_GPT_REDIS_URL":                redistest.URL(),
		"CUSTOM_GPT_STREAM_PREFIX":            redistest.Prefix(t),
		"CUSTOM_GPT_ADMIN_TOKEN":              adminToken,
		"CUSTOM_GPT_SECRETS_KEY":              newSecretsKey(),
		"CUSTOM_GPT_HTTP_ADDR":                addrtest.ReserveTCP(t),
		"CUSTOM_GPT_LOG_LEVEL":                "warn",
		"CUSTOM_GPT_OUTBOX_POLL_INTERVAL":     "20ms",
		"CUSTOM_GPT_RETRY_INITIAL":            "20ms",
		"CUSTOM_GPT_RETRY_MAX_INTERVAL":       "200ms",
		"CUSTOM_GPT_RETRY_MAX":                "3",
		"CUSTOM_GPT_MEMORY_BANK_TIMEOUT":      "2s",
		"CUSTOM_GPT_WORKER_LEASE":             "3s",
		"CUSTOM_GPT_WORKER_CLAIM_IDLE":        "1s",
		"CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN": "300ms",
		// Tests poll fast; rate limits are tested through set-limits overrides.
		"CUSTOM_GPT_APP_RATE": "10000", "CUSTOM_GPT_APP_BURST": "100000",
		"CUSTOM_GPT_USER_RATE": "10000", "CUSTOM_GPT_USER_BURST": "100000",
	}}
	e.base = "http://" + e.vars["CUSTOM_GPT_HTTP_ADDR"]
	if flavor != "embedded" {
		e.bank = mem0test.NewServer(t, memorybank.Flavor(flavor))
		e.bank.SetAPIKey("mem0-key")
		e.vars["CUSTOM_GPT_MEMORY_BANK_URL"] = e.bank.URL()
		e.vars["CUSTOM_GPT_MEMORY_BANK_FLAVOR"] = flavor
		e.vars["CUSTOM_GPT_MEMORY_BANK_API_KEY"] = "mem0-key"
		// No route mem0's document marks deprecated may be called.
		e.bank.SetRejectDeprecated(true)
	}
	return e
}

func (e *env) getenv(k string) string { return e.vars[k] }

// newSecretsKey is a fresh CUSTOM_GPT_SECRETS_KEY: 32 random bytes in base64.
func newSecretsKey() string {
	b := make([]byte, secrets.KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// keyring is the deployment's CUSTOM_GPT_SECRETS_KEY, for tests that read or
// write its stored secrets directly.
func (e *env) keyring() *secrets.Keyring {
	e.t.Helper()
	key, err := base64.StdEncoding.DecodeString(e.vars["CUSTOM_GPT_SECRETS_KEY"])
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := secrets.NewKeyring(key, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// with is the deployment with some variables set otherwise, for one process
// of it (a worker with another setting, say).
func (e *env) with(vars map[string]string) *env {
	c := *e
	c.vars = maps.Clone(e.vars)
	maps.Copy(c.vars, vars)
	return &c
}

// forTest is the deployment as seen from a subtest, which fails that subtest.
func (e *env) forTest(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// cli runs one command to completion and returns its stdout.
func (e *env) cli(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, e.getenv, &out, &errOut)
	if err != nil {
		return out.String(), fmt.Errorf("%w (stderr: %s)", err, errOut.String())
	}
	return out.String(), nil
}

// start runs a long-lived command (serve, api, worker) until the test ends or
// the returned stop is called; it waits until each of its listeners answers.
func (e *env) start(cmd string) (stop func()) {
	e.t.Helper()
	stop, _ = e.startCancellable(cmd)
	return stop
}

// startCancellable is start that also returns cancel, which asks the command to
// stop without waiting for it (stop waits).
func (e *env) startCancellable(cmd string) (stop, cancel func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error // set before exited is closed
	logs := &lockedWriter{t: e.t, keep: e.logs}
	go func() {
		defer close(exited)
		runErr = run(ctx, []string{cmd}, e.getenv, io.Discard, logs)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-exited
			logs.close()
			if runErr != nil {
				e.t.Errorf("%s exited with %v", cmd, runErr)
			}
		})
	}
	e.t.Cleanup(stop)
	// The listeners of the command: a worker alone has one only with
	// CUSTOM_GPT_WORKER_ADDR.
	var addrs []string
	if cmd == "worker" {
		if a := e.vars["CUSTOM_GPT_WORKER_ADDR"]; a != "" {
			addrs = append(addrs, a)
		}
	} else {
		addrs = append(addrs, e.vars["CUSTOM_GPT_HTTP_ADDR"])
		if a := e.vars["CUSTOM_GPT_ADMIN_ADDR"]; a != "" {
			addrs = append(addrs, a)
		}
	}
	for _, addr := range addrs {
		e.eventually(cmd+" answers /healthz on "+addr, func() bool {
			// A bind that failed (the address taken after all) ends the
			// command: fail now, naming why, not after the deadline.
			select {
			case <-exited:
				e.t.Fatalf("%s stopped before it answered on %s: %v", cmd, addr, runErr)
			default:
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	return stop, cancel
}

type appCreds struct {
	AppID  string `json:"app_id"`
	APIKey string `json:"api_key"`
}

func (e *env) createApp(name string) appCreds {
	e.t.Helper()
	out, err := e.cli("apps", "create", "--name", name)
	if err != nil {
		e.t.Fatalf("apps create: %v", err)
	}
	var c appCreds
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.AppID == "" || c.APIKey == "" {
		e.t.Fatalf("apps create printed %q: %v", out, err)
	}
	return c
}

// call sends a JSON request and decodes the JSON answer into a map.
func (e *env) call(method, path, token string, body any) (int, http.Header, map[string]any) {
	e.t.Helper()
	return e.callWithRequestID(method, path, token, "", body)
}

// callWithRequestID is call with an X-Request-ID header when requestID is set.
func (e *env) callWithRequestID(method, path, token, requestID string, body any) (int, http.Header, map[string]any) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, e.base+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.t.Fatalf("%s %s answered %d with non-JSON %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// eventually polls cond until it holds or a deadline passes.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (e *env) operationStatus(token, opID string) string {
	code, _, body := e.call("GET", "/api/v1/operations/"+opID, token, nil)
	if code != http.StatusOK {
		e.t.Fatalf("operation %s: %d %v", opID, code, body)
	}
	return body["status"].(string)
}

// accept sends a write and returns its operation id; it must be accepted.
func (e *env) accept(method, path, token string, body any) string {
	e.t.Helper()
	code, _, reply := e.call(method, path, token, body)
	if code != http.StatusAccepted {
		e.t.Fatalf("%s %s: %d %v", method, path, code, reply)
	}
	return reply["operation_id"].(string)
}

// finished waits until the operation ends and returns it.
func (e *env) finished(token, opID string) map[string]any {
	e.t.Helper()
	var op map[string]any
	e.eventually("operation "+opID+" ends", func() bool {
		_, _, op = e.call("GET", "/api/v1/operations/"+opID, token, nil)
		return op["status"] != "pending"
	})
	return op
}

// succeeded waits until the operation ends, which must be a success.
func (e *env) succeeded(token, opID string) map[string]any {
	e.t.Helper()
	op := e.finished(token, opID)
	if op["status"] != "succeeded" {
		e.t.Fatalf("operation %s ended %v", opID, op)
	}
	return op
}

// acceptCreate accepts one memory and returns its operation id.
func (e *env) acceptCreate(apiKey, content string) string {
	e.t.Helper()
	return e.accept("POST", "/api/v1/memories", apiKey, map[string]any{"content": content})
}

// lockedWriter sends a server's log lines to the test log until closed: a Redis
// reader may still log while its blocking read times out after shutdown.
type lockedWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
	keep   *logLines // also kept here, when set
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keep != nil {
		w.keep.add(strings.TrimSpace(string(p)))
	}
	if !w.closed {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *lockedWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// benchPool is pool, opened once per deployment.
func (e *env) benchPool() *pgxpool.Pool {
	if e.db == nil {
		e.db = e.pool()
	}
	return e.db
}

// pool opens the deployment's database, for assertions on what was written.
func (e *env) pool() *pgxpool.Pool {
	e.t.Helper()
	p, err := pgxpool.New(context.Background(), e.vars["CUSTOM_GPT_DATABASE_URL"])
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	return p
}

// env2 runs commands with nothing but the given variables set.
type env2 struct{ vars map[string]string }

func (e *env2) cli(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return e.vars[k] }, &out, &errOut)
	return out.String(), err
}

func dropDatabase(t *testing.T, dbURL string) {
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	conn, err := pgx.Connect(context.Background(), pgtest.ServerURL())
	if err != nil {
		t.Logf("drop %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func t0ctx() context.Context { return context.Background() }
