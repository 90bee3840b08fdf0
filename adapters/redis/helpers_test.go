package redis_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// ownRedis is a redis-server of the test's own and the mode to reach it in.
type ownRedis struct {
	*redistest.Server
	mode redis.Mode
}

// startOwnRedis starts a redis-server without persistence, killed at
// cleanup: like production's, it comes back empty from a restart. It skips
// the test when redis-server is not installed.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	quietRedisClient()
	return &ownRedis{redistest.StartServer(t, redistest.ServerOptions{}), redis.ModeSingle}
}

// startOwnCluster starts a Redis Cluster of one node that serves every slot:
// enough to run the cluster client's routing and hooks.
func startOwnCluster(t *testing.T) *ownRedis {
	t.Helper()
	quietRedisClient()
	return &ownRedis{redistest.StartServer(t, redistest.ServerOptions{Cluster: true}), redis.ModeCluster}
}

// quietRedisClient keeps go-redis from printing every failed dial while a
// server is down.
func quietRedisClient() { redis.UseLogger(slog.New(slog.DiscardHandler)) }

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
