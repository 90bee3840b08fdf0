package webhook

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

func message(url string) webhook.Message {
	return webhook.Message{URL: url, ID: "evt-1", Timestamp: time.Unix(1700000000, 0), Signature: "v1,abc", Body: []byte(`{"type":"t"}`)}
}

func port(srv *httptest.Server) string {
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return p
}

// Without AllowPrivate, every way of naming the loopback interface is refused
// when connecting, names included: the receiver gets nothing.
func TestSenderRefusesForbiddenAddressesAtConnectionTime(t *testing.T) {
	t.Parallel()
	s := NewSender(Config{Timeout: 5 * time.Second})
	refused := func(t *testing.T, hits *atomic.Int32, urls ...string) {
		t.Helper()
		for _, url := range urls {
			res := s.Send(context.Background(), message(url))
			if res.StatusCode != 0 || !strings.Contains(res.Err, "refused to connect") || !strings.Contains(res.Err, "loopback") {
				t.Errorf("%s: %+v, want refused as loopback", url, res)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the receiver got %d requests", n)
		}
	}
	// Subtests, so that a machine without IPv6 loopback skips only its own.
	t.Run("IPv4", func(t *testing.T) {
		v4, hits := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {})
		refused(t, hits,
			"http://127.0.0.1:"+port(v4)+"/",
			"http://localhost:"+port(v4)+"/",
			"http://[::ffff:127.0.0.1]:"+port(v4)+"/")
	})
	t.Run("IPv6", func(t *testing.T) {
		v6, hits := addrtest.CountingServer(t, "tcp6", func(w http.ResponseWriter, r *http.Request) {})
		refused(t, hits, "http://[::1]:"+port(v6)+"/")
	})
}

func TestSenderPostsSignedJSON(t *testing.T) {
	t.Parallel()
	var got *http.Request
	srv, _ := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.WriteHeader(http.StatusNoContent)
	})
	res := NewSender(Config{AllowPrivate: true}).Send(context.Background(), message(srv.URL+"/hook"))
	if !res.Succeeded() || res.Duration <= 0 {
		t.Fatalf("result %+v", res)
	}
	want := map[string]string{
		"Content-Type": "application/json", "webhook-id": "evt-1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,abc",
	}
	for k, v := range want {
		if got.Header.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, got.Header.Get(k), v)
		}
	}
	if got.Method != http.MethodPost || !strings.HasPrefix(got.UserAgent(), "custom-gpt-adapter") {
		t.Errorf("%s with User-Agent %q", got.Method, got.UserAgent())
	}
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target, targetHits := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {})
	srv, _ := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	res := NewSender(Config{AllowPrivate: true}).Send(context.Background(), message(srv.URL))
	if res.StatusCode != http.StatusFound || res.Succeeded() || !strings.Contains(res.Describe(), "redirect") {
		t.Errorf("result %+v (%s)", res, res.Describe())
	}
	if targetHits.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

func TestSenderReadsRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		header string
		want   time.Duration
	}{
		{http.StatusServiceUnavailable, "120", 120 * time.Second},
		{http.StatusTooManyRequests, "7", 7 * time.Second},
		{http.StatusInternalServerError, "120", 0}, // only 429 and 503 carry it
		{http.StatusServiceUnavailable, "soon", 0},
	} {
		srv, _ := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", tt.header)
			w.WriteHeader(tt.status)
		})
		res := NewSender(Config{AllowPrivate: true}).Send(context.Background(), message(srv.URL))
		if res.StatusCode != tt.status || res.RetryAfter != tt.want {
			t.Errorf("%d Retry-After %q: %+v, want %v", tt.status, tt.header, res, tt.want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := retryAfter(now.Add(time.Hour).Format(http.TimeFormat), now); d != time.Hour {
		t.Errorf("HTTP date an hour ahead: %v", d)
	}
}

func TestSenderTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := addrtest.CountingServer(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before the server's Close, which waits for handlers
	res := NewSender(Config{AllowPrivate: true, Timeout: 100 * time.Millisecond}).Send(context.Background(), message(srv.URL))
	if res.StatusCode != 0 || !strings.Contains(res.Err, "timed out") {
		t.Errorf("result %+v", res)
	}
}
