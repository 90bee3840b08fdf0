package redis_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
)

// ownRedis is a redis-server a test starts, stops and restarts on one port,
// without persistence: like production's, it comes back empty.
type ownRedis struct {
	t       *testing.T
	bin     string
	port    string
	dir     string
	cluster bool
	cmd     *exec.Cmd
	done    chan struct{}
}

// startOwnRedis starts a redis-server on a free port, stopped at cleanup. It
// skips the test when redis-server is not installed.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	return startOwnRedisServer(t, false)
}

// startOwnCluster starts a Redis Cluster of one node that serves every slot:
// enough to run the cluster client's routing and hooks.
func startOwnCluster(t *testing.T) *ownRedis {
	t.Helper()
	r := startOwnRedisServer(t, true)
	c := r.client()
	ctx := context.Background()
	if err := c.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err(); err != nil {
		t.Fatalf("assign the slots: %v", err)
	}
	eventually(t, 20*time.Second, "the one-node cluster is up", func() (bool, any) {
		info, err := c.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok"), info
	})
	return r
}

func startOwnRedisServer(t *testing.T, cluster bool) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: this test runs its own")
	}
	// go-redis would print every failed dial while the server is down.
	redis.UseLogger(slog.New(slog.DiscardHandler))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	r := &ownRedis{t: t, bin: bin, port: port, dir: t.TempDir(), cluster: cluster}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) url() string {
	if r.cluster {
		return "redis://127.0.0.1:" + r.port // a cluster has no databases
	}
	return "redis://127.0.0.1:" + r.port + "/0"
}

func (r *ownRedis) mode() redis.Mode {
	if r.cluster {
		return redis.ModeCluster
	}
	return redis.ModeSingle
}

// start runs redis-server and waits until it answers PING.
func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--bind", "127.0.0.1", "--port", r.port, "--dir", r.dir,
		"--save", "", "--appendonly", "no", "--logfile", "")
	if r.cluster {
		r.cmd.Args = append(r.cmd.Args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + r.port, MaxRetries: -1})
	defer c.Close()
	eventually(r.t, 20*time.Second, "redis-server on port "+r.port+" answers", func() (bool, any) {
		err := c.Ping(context.Background()).Err()
		return err == nil, err
	})
}

// stop kills the server: without persistence it comes back empty.
func (r *ownRedis) stop() {
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// client opens a plain client on the server, closed at cleanup.
func (r *ownRedis) client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + r.port})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond until it holds, failing the test after timeout with
// what cond last saw.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, any)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting until %s (last seen: %v)", timeout, what, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects a logger's lines for a test to read, safe for the
// goroutines of a subscriber.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// slogTo is a text logger writing to b.
func slogTo(b *logBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
