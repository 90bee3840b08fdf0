package redis

import (
	"net"
	"sync/atomic"
	"syscall"
)

// brokenConns counts the failed reads and writes of a client's connections.
type brokenConns struct{ n atomic.Int64 }

// watch wraps a connection the client dialled so its failures are counted.
func (b *brokenConns) watch(c net.Conn) net.Conn {
	if sc, ok := c.(syscall.Conn); ok {
		return &watchedSyscallConn{watchedConn{Conn: c, broken: b}, sc}
	}
	return &watchedConn{Conn: c, broken: b}
}

type watchedConn struct {
	net.Conn
	broken *brokenConns
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.broken.n.Add(1)
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.broken.n.Add(1)
	}
	return n, err
}

// watchedSyscallConn keeps the socket reachable, as go-redis's pool checks an
// idle connection's health through it before reusing it.
type watchedSyscallConn struct {
	watchedConn
	sc syscall.Conn
}

func (c *watchedSyscallConn) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }
