package redistest

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
)

// ServerOptions says what kind of redis-server a test runs.
type ServerOptions struct {
	// AppendOnly keeps every acknowledged write (fsync always), so a killed
	// server comes back with it; otherwise a restart starts empty.
	AppendOnly bool
	// Cluster runs a one-node Redis Cluster that serves every slot. It
	// listens on TCP, as cluster clients need, and cannot be restarted.
	Cluster bool
}

// Server is a redis-server a test owns, to kill and restart.
//
// Restarted on a TCP port, a server could find the port taken by anyone while
// it was down, and the test would go on against someone else's server. So a
// server listens on a Unix socket in a directory of the test's own, where
// nothing else can appear. A cluster, which needs TCP, is never restarted.
type Server struct {
	t    testing.TB
	bin  string
	opts ServerOptions
	dir  string
	sock string // the Unix socket; "" for a cluster
	// addr and busPort are a cluster's reserved client and bus ports.
	addr, busPort string

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// StartServer starts a redis-server, killed at cleanup. It skips the test
// when redis-server is not installed.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: this test runs its own")
	}
	s := &Server{t: t, bin: bin, opts: opts, dir: addrtest.SocketDir(t)}
	if opts.Cluster {
		// The bus port is not the default client port + 10000, which
		// can pass 65535 and is not reserved.
		s.addr = addrtest.ReserveTCP(t)
		_, s.busPort, _ = net.SplitHostPort(addrtest.ReserveTCP(t))
	} else {
		s.sock = filepath.Join(s.dir, "redis.sock")
	}
	s.Start()
	t.Cleanup(s.Kill)
	if opts.Cluster {
		c := s.Client()
		ctx := context.Background()
		if err := c.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err(); err != nil {
			t.Fatalf("assign the slots: %v", err)
		}
		s.waitFor("the one-node cluster is up", func() (bool, any) {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok"), info
		})
	}
	return s
}

// URL is the server's URL for the service's CUSTOM_GPT_REDIS_URL and
// goredis.ParseURL (a cluster has no databases).
func (s *Server) URL() string {
	if s.opts.Cluster {
		return "redis://" + s.addr
	}
	return "unix://" + s.sock + "?db=0"
}

// Options are client options for the server.
func (s *Server) Options() *goredis.Options {
	if s.opts.Cluster {
		return &goredis.Options{Addr: s.addr}
	}
	return &goredis.Options{Network: "unix", Addr: s.sock}
}

// Client opens a plain client on the server, closed at cleanup.
func (s *Server) Client() *goredis.Client {
	c := goredis.NewClient(s.Options())
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Start runs redis-server and waits until it answers PING. If the server
// exits first (a cluster's reserved port taken after all, say), the test
// fails at once with the server's own words.
func (s *Server) Start() {
	s.t.Helper()
	args := []string{"--dir", s.dir, "--save", "", "--logfile", ""}
	if s.opts.Cluster {
		if s.cmd != nil {
			s.t.Fatal("a cluster cannot be restarted: its TCP port is not kept while it is down")
		}
		host, port, _ := net.SplitHostPort(s.addr)
		args = append(args, "--bind", host, "--port", port,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", s.busPort)
	} else {
		args = append(args, "--port", "0", "--unixsocket", s.sock, "--unixsocketperm", "700")
	}
	if s.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(s.bin, args...)
	out := &bytes.Buffer{}
	cmd.Stdout = &lockedWriter{mu: &s.mu, w: out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.out, s.done = cmd, out, done
	s.mu.Unlock()

	opts := s.Options()
	opts.MaxRetries = -1
	c := goredis.NewClient(opts)
	defer c.Close()
	s.waitFor("redis-server answers PING", func() (bool, any) {
		select {
		case <-done:
			s.t.Fatalf("redis-server exited before it answered:\n%s", s.output())
		default:
		}
		err := c.Ping(context.Background()).Err()
		return err == nil, err
	})
}

// Kill sends SIGKILL and waits until the server is gone: no shutdown save,
// only what was fsynced survives.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
	default:
		_ = cmd.Process.Kill()
		<-done
	}
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *Server) waitFor(what string, cond func() (bool, any)) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("gave up waiting until %s (last seen: %v)", what, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedWriter is a server's output, written by exec's copying goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
