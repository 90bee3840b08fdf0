package outbound_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/outbound"
)

func port(srv *httptest.Server) string {
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return p
}

// empty answers 200 with no body.
func empty(http.ResponseWriter, *http.Request) {}

// Without AllowPrivate, every way of naming the loopback interface is refused
// when connecting, names included: the server gets nothing.
func TestClientRefusesForbiddenAddressesAtConnectionTime(t *testing.T) {
	t.Parallel()
	c := outbound.NewClient(outbound.Config{Timeout: 5 * time.Second})
	refused := func(t *testing.T, hits *atomic.Int32, urls ...string) {
		t.Helper()
		for _, url := range urls {
			resp, err := c.Get(url)
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s answered %d, want refused", url, resp.StatusCode)
				continue
			}
			fe, ok := outbound.Refused(err)
			if !ok || !strings.Contains(fe.Reason, "loopback") || !strings.Contains(err.Error(), "refused to connect") {
				t.Errorf("%s: %v, want refused as loopback", url, err)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the server got %d requests", n)
		}
	}
	// Subtests, so that a machine without IPv6 loopback skips only its own.
	t.Run("IPv4", func(t *testing.T) {
		t.Parallel()
		v4, hits := addrtest.CountingServer(t, "tcp4", empty)
		refused(t, hits,
			"http://127.0.0.1:"+port(v4)+"/",
			"http://localhost:"+port(v4)+"/",
			"http://[::ffff:127.0.0.1]:"+port(v4)+"/")
	})
	t.Run("IPv6", func(t *testing.T) {
		t.Parallel()
		v6, hits := addrtest.CountingServer(t, "tcp6", empty)
		refused(t, hits, "http://[::1]:"+port(v6)+"/")
	})
}

func TestClientReachesPrivateAddressesWhenAllowed(t *testing.T) {
	t.Parallel()
	srv, hits := addrtest.CountingServer(t, "tcp4", empty)
	resp, err := outbound.NewClient(outbound.Config{AllowPrivate: true}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 1 {
		t.Errorf("status %d, %d requests", resp.StatusCode, hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target, targetHits := addrtest.CountingServer(t, "tcp4", empty)
	srv, _ := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	resp, err := outbound.NewClient(outbound.Config{AllowPrivate: true}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want the 302 itself", resp.StatusCode)
	}
	if targetHits.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

// A proxy would make the connection for us, to an address never checked.
func TestClientIgnoresProxySettings(t *testing.T) {
	t.Parallel()
	c := outbound.NewClient(outbound.Config{})
	tr, isTransport := c.Transport.(*http.Transport)
	if !isTransport || tr.Proxy != nil {
		t.Errorf("transport %T with a proxy function", c.Transport)
	}
}

func TestRefusedIgnoresOtherErrors(t *testing.T) {
	t.Parallel()
	if fe, refused := outbound.Refused(errors.New("connection reset")); refused || fe != nil {
		t.Errorf("Refused = %v, %v", fe, refused)
	}
}
