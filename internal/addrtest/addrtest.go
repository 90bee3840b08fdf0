// Package addrtest gives a test addresses that no one else takes before the
// process they are meant for binds them: a parallel test, or any process on
// the machine, must not end up answering in its place.
package addrtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
)

// ReserveTCP returns a loopback host:port for a process to bind later.
//
// A port picked on :0 and simply released goes to the next bind on :0 or the
// next outgoing connection, and a test could then talk to someone else's
// server. This one is left in TIME_WAIT (its listening side closes first),
// which keeps the kernel from handing it out, to a bind on :0 or to a
// connection, for a minute; a listener with SO_REUSEADDR, as every Go listener
// and redis-server set, may still bind it. Whoever binds it must still fail
// at once when the bind fails.
func ReserveTCP(t testing.TB) string {
	t.Helper()
	addr, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// Reserve is ReserveTCP for programs that are not tests (the load
// generator under tests/load).
func Reserve() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return "", err
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		return "", err
	}
	_ = server.Close()
	// The client reads the server's FIN; its own close then ends the
	// exchange, and the server's end goes to TIME_WAIT.
	if n, err := client.Read(make([]byte, 1)); n != 0 || err == nil {
		return "", fmt.Errorf("reserve %s: read %d bytes (%v), want the end of the stream", l.Addr(), n, err)
	}
	return l.Addr().String(), nil
}

// SocketDir is a new directory for Unix sockets, removed at cleanup: only the
// test can create a socket there, and its path is short enough for one (108
// bytes), which a test's TempDir may not be.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cgpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// CountingServer serves h on a loopback address of network ("tcp4", or
// "tcp6", skipping the test where the machine has no IPv6 loopback), counts
// the requests it gets, and stops at cleanup: what the tests of guarded
// outbound clients connect to, to tell whether a request got through.
func CountingServer(t testing.TB, network string, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	if network == "tcp6" {
		l, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}
