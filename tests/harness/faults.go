package harness

// Helpers shared by the "proof under faults" tests (faults_*_test.go): each
// test owns what it breaks (a worker process, a redis-server, a proxy) and runs
// under its own overall deadline.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

// FaultContext bounds a whole fault test: every wait in it gives up at d.
func FaultContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// WaitFor polls cond until it holds, failing the test when ctx ends first.
func WaitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	WaitForState(ctx, t, what, func() (bool, any) { return cond(), nil })
}

// WaitForState is waitFor whose cond also returns what it last saw, for the
// failure message.
func WaitForState(ctx context.Context, t *testing.T, what string, cond func() (bool, any)) {
	t.Helper()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting until %s (last seen: %v): %v", what, state, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// HangGuard is the client of the fault tests: its timeout only keeps a stuck
// request from hanging a test; no test asserts on latency with it.
func HangGuard(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// Reply is what a fault test needs of one HTTP reply.
type Reply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// Send is call for goroutines and for calls that may fail: it returns the
// transport error instead of failing the test.
func Send(ctx context.Context, c *http.Client, method, url, token string, body any) (Reply, error) {
	var r io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return Reply{}, err
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return Reply{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, err
	}
	a := Reply{Status: resp.StatusCode, Header: resp.Header}
	if len(raw) > 0 && json.Unmarshal(raw, &a.Body) != nil {
		return a, fmt.Errorf("%s %s answered %d with non-JSON %q", method, url, resp.StatusCode, raw)
	}
	return a, nil
}

// Create sends one create and returns its reply and, when accepted, its operation id.
func Create(ctx context.Context, c *http.Client, base, token, content string) (Reply, string, error) {
	a, err := Send(ctx, c, "POST", base+"/api/v1/memories", token, map[string]any{"content": content})
	if err != nil {
		return a, "", err
	}
	if a.Status != http.StatusAccepted {
		return a, "", nil
	}
	id, _ := a.Body["operation_id"].(string)
	if id == "" {
		return a, "", fmt.Errorf("202 without an operation id: %v", a.Body)
	}
	return a, id, nil
}

// IsProblem503 tells whether a is the 503 problem a caller may retry.
func IsProblem503(a Reply) bool {
	return a.Status == http.StatusServiceUnavailable && a.Header.Get("Retry-After") != "" &&
		strings.HasPrefix(a.Header.Get("Content-Type"), "application/problem+json") &&
		strings.HasPrefix(fmt.Sprint(a.Body["type"]), "urn:custom-gpt-adapter:problem:")
}

// OpCounts counts the deployment's operations by status.
func OpCounts(ctx context.Context, db *pgxpool.Pool) (map[string]int, error) {
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM custom_gpt_operations GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// WaitAllSucceeded waits until every id in ids has succeeded, failing at once
// if one failed.
func WaitAllSucceeded(ctx context.Context, t *testing.T, db *pgxpool.Pool, ids []string) {
	t.Helper()
	WaitForState(ctx, t, fmt.Sprintf("all %d accepted operations succeed", len(ids)), func() (bool, any) {
		rows, err := db.Query(ctx, `SELECT status, count(*) FROM custom_gpt_operations WHERE id = ANY($1) GROUP BY status`, ids)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var s string
			var n int
			if rows.Scan(&s, &n) == nil {
				got[s] = n
			}
		}
		if got["failed"] > 0 {
			t.Fatalf("%d accepted operations failed: %v", got["failed"], got)
		}
		return got["succeeded"] == len(ids), got
	})
}

// AssertCreatesAudited checks the audit holds exactly one succeeded entry for
// each create in ids and none left pending or failed.
func AssertCreatesAudited(ctx context.Context, t *testing.T, db *pgxpool.Pool, ids []string) {
	t.Helper()
	var succeeded, other int
	err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'succeeded' AND operation_id = ANY($1)),
		count(*) FILTER (WHERE status <> 'succeeded')
		FROM custom_gpt_audit_entries WHERE action = 'create_memory'`, ids).Scan(&succeeded, &other)
	if err != nil {
		t.Fatal(err)
	}
	if succeeded != len(ids) || other != 0 {
		t.Fatalf("audit: %d succeeded creates of the %d accepted, %d pending or failed", succeeded, len(ids), other)
	}
}

// FaultScope is how many memories a fault test's scope holds before the
// fault: more than mem0 lists in one call, so that no recovery can rest on
// reading the scope.
const FaultScope = 1200

// AssertBankHolds checks the Memory Bank holds exactly one memory per id: none
// lost, none stored twice, nothing else but what seedBank stored.
func AssertBankHolds(t *testing.T, bank *mem0test.Server, ids []string) {
	t.Helper()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	seen := map[string]time.Time{}
	for _, m := range bank.Memories() {
		op, _ := m.Metadata["operation_id"].(string)
		if strings.HasPrefix(op, seedPrefix) {
			continue
		}
		if !want[op] {
			t.Fatalf("the Memory Bank holds memory %s of operation %q, which was never accepted", m.ID, op)
		}
		if first, dup := seen[op]; dup {
			t.Fatalf("the Memory Bank holds operation %s's memory twice, stored %s apart", op, m.CreatedAt.Sub(first))
		}
		seen[op] = m.CreatedAt
	}
	if len(seen) != len(ids) {
		t.Fatalf("the Memory Bank holds %d memories, want %d", len(seen), len(ids))
	}
}

// WaitStreamsDrained waits until nothing is pending in the CreateMemory
// consumer group, and checks nothing was parked on the poison stream.
func WaitStreamsDrained(ctx context.Context, t *testing.T, e *Deployment) {
	t.Helper()
	rdb := RedisClientAt(t, e.Vars["CUSTOM_GPT_REDIS_URL"])
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	stream, group := topics.Command("CreateMemory"), topics.ConsumerGroup("CreateMemory")
	WaitForState(ctx, t, "no CreateMemory command is left pending", func() (bool, any) {
		p, err := rdb.XPending(ctx, stream, group).Result()
		if err != nil {
			return false, err
		}
		return p.Count == 0, fmt.Sprintf("XPENDING %d", p.Count)
	})
	if n, err := rdb.XLen(ctx, topics.Poison()).Result(); err != nil || n != 0 {
		t.Fatalf("the poison stream holds %d commands (%v), want 0", n, err)
	}
}

// child is the real binary's entry run as a separate process (see TestMain).
type child struct {
	t     *testing.T
	Cmd   *exec.Cmd
	stdin io.Closer
	Done  chan struct{}
	logs  *lockedWriter
}

// StartChild runs `role` in a new process with the deployment's variables. It
// is killed at cleanup if the test did not.
func StartChild(t *testing.T, e *Deployment, role string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ChildRoleEnv+"="+role)
	for k, v := range e.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{t: t, Cmd: cmd, Done: make(chan struct{}), logs: &lockedWriter{t: t}}
	cmd.Stderr = c.logs
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", role, err)
	}
	go func() { _ = cmd.Wait(); close(c.Done) }()
	t.Cleanup(c.Kill)
	return c
}

// Kill sends SIGKILL and waits until the process is gone.
func (c *child) Kill() {
	select {
	case <-c.Done:
	default:
		_ = c.Cmd.Process.Kill()
		<-c.Done
	}
	_ = c.stdin.Close()
	c.logs.close()
}

// NewProxy starts an in-process toxiproxy from a free loopback port to
// upstream (host:port), stopped at cleanup. A proxy switched off (Stop) gives
// its port up, as an outage must refuse connections: switch it back on with
// SwitchOn, which fails if anyone took the port meanwhile.
func NewProxy(t *testing.T, name, upstream string) *toxiproxy.Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start proxy %s: %v", name, err)
	}
	t.Cleanup(p.Stop)
	return p
}

// PostgresBehindProxy points the deployment's database URL at a proxy in front
// of its database, to be switched off and on.
func PostgresBehindProxy(t *testing.T, e *Deployment) *toxiproxy.Proxy {
	t.Helper()
	dbURL, err := url.Parse(e.Vars["CUSTOM_GPT_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := NewProxy(t, "postgres", dbURL.Host)
	dbURL.Host = proxy.Listen
	e.Vars["CUSTOM_GPT_DATABASE_URL"] = dbURL.String()
	return proxy
}

// SwitchOn starts a stopped proxy again on its port. While it was off the
// port was free; if another process took it, the test fails here at once
// rather than go on against a server that is not the proxy.
func SwitchOn(t *testing.T, p *toxiproxy.Proxy) {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatalf("switch the proxy back on at %s (taken while it was off?): %v", p.Listen, err)
	}
}

// AddToxic adds a toxic given as toxiproxy's JSON.
func AddToxic(t *testing.T, p *toxiproxy.Proxy, toxicJSON string) {
	t.Helper()
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(toxicJSON)); err != nil {
		t.Fatalf("add toxic %s: %v", toxicJSON, err)
	}
}

// Metric reads one unlabelled gauge or counter from the API's /metrics.
func Metric(ctx context.Context, c *http.Client, base, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// Accepted is a mutex-guarded list of accepted operation ids, for senders.
type Accepted struct {
	mu  sync.Mutex
	ids []string
}

func (a *Accepted) Add(id string) {
	a.mu.Lock()
	a.ids = append(a.ids, id)
	a.mu.Unlock()
}

func (a *Accepted) List() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

func (a *Accepted) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// RedisClientAt opens a client on url, closed at cleanup.
func RedisClientAt(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
