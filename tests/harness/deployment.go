package harness

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
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

const AdminToken = "test-admin-token-0123456789"

// Deployment is one test deployment: its own database, stream prefix and HTTP port.
type Deployment struct {
	T    testing.TB
	Vars map[string]string
	Base string // http://127.0.0.1:port
	Bank *mem0test.Server
	db   *pgxpool.Pool
	// Logs, when set, keeps every log line of the processes started.
	Logs *LogLines
	// Options build the services of the commands it runs in this process
	// (a tracer provider of the test's own, say).
	Options []service.Option
}

// LogLines keeps log lines, for tests of what a process logs.
type LogLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *LogLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// Matching returns the lines holding substr.
func (l *LogLines) Matching(substr string) []string {
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

// NewDeployment prepares a deployment against flavor ("embedded" for no mem0 URL).
func NewDeployment(t testing.TB, flavor string) *Deployment {
	t.Helper()
	e := &Deployment{T: t, Vars: map[string]string{
		"CUSTOM_GPT_DATABASE_URL":             pgtest.NewURL(t),
		"CUSTOM_GPT_REDIS_URL":                redistest.URL(),
		"CUSTOM_GPT_STREAM_PREFIX":            redistest.Prefix(t),
		"CUSTOM_GPT_ADMIN_TOKEN":              AdminToken,
		"CUSTOM_GPT_SECRETS_KEY":              NewSecretsKey(),
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
		// Revocations take effect at once, so the tests of what they stop need
		// not wait; TestCredentialCacheBound holds the default's bound.
		"CUSTOM_GPT_CREDENTIAL_CACHE_TTL": "0",
	}}
	e.Base = "http://" + e.Vars["CUSTOM_GPT_HTTP_ADDR"]
	if flavor != "embedded" {
		e.Bank = mem0test.NewServer(t, memorybank.Flavor(flavor))
		e.Bank.SetAPIKey("mem0-key")
		e.Vars["CUSTOM_GPT_MEMORY_BANK_URL"] = e.Bank.URL()
		e.Vars["CUSTOM_GPT_MEMORY_BANK_FLAVOR"] = flavor
		e.Vars["CUSTOM_GPT_MEMORY_BANK_API_KEY"] = "mem0-key"
		// No route mem0's document marks deprecated may be called.
		e.Bank.SetRejectDeprecated(true)
	}
	return e
}

func (e *Deployment) Getenv(k string) string { return e.Vars[k] }

// NewSecretsKey is a fresh CUSTOM_GPT_SECRETS_KEY: 32 random bytes in base64.
func NewSecretsKey() string {
	b := make([]byte, secrets.KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Keyring is the deployment's CUSTOM_GPT_SECRETS_KEY, for tests that read or
// write its stored secrets directly.
func (e *Deployment) Keyring() *secrets.Keyring {
	e.T.Helper()
	key, err := base64.StdEncoding.DecodeString(e.Vars["CUSTOM_GPT_SECRETS_KEY"])
	if err != nil {
		e.T.Fatal(err)
	}
	k, err := secrets.NewKeyring(key, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	return k
}

// With is the deployment with some variables set otherwise, for one process
// of it (a worker with another setting, say).
func (e *Deployment) With(vars map[string]string) *Deployment {
	c := *e
	c.Vars = maps.Clone(e.Vars)
	maps.Copy(c.Vars, vars)
	return &c
}

// ForTest is the deployment as seen from a subtest, which fails that subtest.
func (e *Deployment) ForTest(t testing.TB) *Deployment {
	c := *e
	c.T = t
	return &c
}

// Cli runs one command to completion and returns its stdout.
func (e *Deployment) RunCLI(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := runWith(context.Background(), args, e.Getenv, &out, &errOut, e.Options)
	if err != nil {
		return out.String(), fmt.Errorf("%w (stderr: %s)", err, errOut.String())
	}
	return out.String(), nil
}

// Start runs a long-lived command (serve, api, worker) until the test ends or
// the returned stop is called; it waits until each of its listeners answers.
func (e *Deployment) Start(cmd string) (stop func()) {
	e.T.Helper()
	stop, _ = e.StartCancellable(cmd)
	return stop
}

// StartCancellable is start that also returns cancel, which asks the command to
// stop without waiting for it (stop waits).
func (e *Deployment) StartCancellable(cmd string) (stop, cancel func()) {
	e.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error // set before exited is closed
	logs := &lockedWriter{t: e.T, keep: e.Logs}
	go func() {
		defer close(exited)
		runErr = runWith(ctx, []string{cmd}, e.Getenv, io.Discard, logs, e.Options)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-exited
			logs.close()
			if runErr != nil {
				e.T.Errorf("%s exited with %v", cmd, runErr)
			}
		})
	}
	e.T.Cleanup(stop)
	// The listeners of the command: a worker alone has one only with
	// CUSTOM_GPT_WORKER_ADDR.
	var addrs []string
	if cmd == "worker" {
		if a := e.Vars["CUSTOM_GPT_WORKER_ADDR"]; a != "" {
			addrs = append(addrs, a)
		}
	} else {
		addrs = append(addrs, e.Vars["CUSTOM_GPT_HTTP_ADDR"])
		if a := e.Vars["CUSTOM_GPT_ADMIN_ADDR"]; a != "" {
			addrs = append(addrs, a)
		}
	}
	for _, addr := range addrs {
		e.Eventually(cmd+" answers /healthz on "+addr, func() bool {
			// A bind that failed (the address taken after all) ends the
			// command: fail now, naming why, not after the deadline.
			select {
			case <-exited:
				e.T.Fatalf("%s stopped before it answered on %s: %v", cmd, addr, runErr)
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

type AppCreds struct {
	AppID  string `json:"app_id"`
	APIKey string `json:"api_key"`
}

func (e *Deployment) CreateApp(name string) AppCreds {
	e.T.Helper()
	out, err := e.RunCLI("apps", "create", "--name", name)
	if err != nil {
		e.T.Fatalf("apps create: %v", err)
	}
	var c AppCreds
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.AppID == "" || c.APIKey == "" {
		e.T.Fatalf("apps create printed %q: %v", out, err)
	}
	return c
}

// Call sends a JSON request and decodes the JSON answer into a map.
func (e *Deployment) Call(method, path, token string, body any) (int, http.Header, map[string]any) {
	e.T.Helper()
	return e.CallWithRequestID(method, path, token, "", body)
}

// CallWithRequestID is call with an X-Request-ID header when requestID is set.
func (e *Deployment) CallWithRequestID(method, path, token, requestID string, body any) (int, http.Header, map[string]any) {
	e.T.Helper()
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
	req, _ := http.NewRequest(method, e.Base+path, r)
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
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.T.Fatalf("%s %s answered %d with non-JSON %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// Eventually polls cond until it holds or a deadline passes.
func (e *Deployment) Eventually(what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (e *Deployment) OperationStatus(token, opID string) string {
	code, _, body := e.Call("GET", "/api/v1/operations/"+opID, token, nil)
	if code != http.StatusOK {
		e.T.Fatalf("operation %s: %d %v", opID, code, body)
	}
	return body["status"].(string)
}

// Accept sends a write and returns its operation id; it must be accepted.
func (e *Deployment) Accept(method, path, token string, body any) string {
	e.T.Helper()
	code, _, reply := e.Call(method, path, token, body)
	if code != http.StatusAccepted {
		e.T.Fatalf("%s %s: %d %v", method, path, code, reply)
	}
	return reply["operation_id"].(string)
}

// Finished waits until the operation ends and returns it.
func (e *Deployment) Finished(token, opID string) map[string]any {
	e.T.Helper()
	var op map[string]any
	e.Eventually("operation "+opID+" ends", func() bool {
		_, _, op = e.Call("GET", "/api/v1/operations/"+opID, token, nil)
		return op["status"] != "pending"
	})
	return op
}

// Succeeded waits until the operation ends, which must be a success.
func (e *Deployment) Succeeded(token, opID string) map[string]any {
	e.T.Helper()
	op := e.Finished(token, opID)
	if op["status"] != "succeeded" {
		e.T.Fatalf("operation %s ended %v", opID, op)
	}
	return op
}

// AcceptCreate accepts one memory and returns its operation id.
func (e *Deployment) AcceptCreate(apiKey, content string) string {
	e.T.Helper()
	return e.Accept("POST", "/api/v1/memories", apiKey, map[string]any{"content": content})
}

// lockedWriter sends a server's log lines to the test log until closed: a Redis
// reader may still log while its blocking read times out after shutdown.
type lockedWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
	keep   *LogLines // also kept here, when set
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

// BenchPool is pool, opened once per deployment.
func (e *Deployment) BenchPool() *pgxpool.Pool {
	if e.db == nil {
		e.db = e.Pool()
	}
	return e.db
}

// Pool opens the deployment's database, for assertions on what was written.
func (e *Deployment) Pool() *pgxpool.Pool {
	e.T.Helper()
	p, err := pgxpool.New(context.Background(), e.Vars["CUSTOM_GPT_DATABASE_URL"])
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(p.Close)
	return p
}

// RunCLIWithOnly runs one command with nothing but vars set, and returns its
// standard output.
func RunCLIWithOnly(vars map[string]string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, func(k string) string { return vars[k] }, &out, &errOut)
	return out.String(), err
}

func DropDatabase(t *testing.T, dbURL string) {
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
