package addrtest_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
)

// The reserved port is held in TIME_WAIT, and a Go listener still binds it.
func TestReservedPortIsHeldAndBindable(t *testing.T) {
	t.Parallel()
	addr := addrtest.ReserveTCP(t)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	deadline := time.Now().Add(5 * time.Second)
	for !timeWait(t, p) {
		if time.Now().After(deadline) {
			t.Fatalf("port %d is not in TIME_WAIT: nothing keeps the kernel from handing it out", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("bind the reserved %s: %v", addr, err)
	}
	_ = l.Close()
}

// timeWait tells whether /proc/net/tcp holds a TIME_WAIT socket (state 06)
// on loopback port p.
func timeWait(t *testing.T, p int) bool {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	local := fmt.Sprintf("0100007F:%04X", p)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 3 && f[1] == local && f[3] == "06" {
			return true
		}
	}
	return false
}
