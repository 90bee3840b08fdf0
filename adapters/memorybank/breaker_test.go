package memorybank_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

const failures = 3

func withBreaker(openTimeout time.Duration, reg prometheus.Registerer) func(*memorybank.Config) {
	return func(cfg *memorybank.Config) {
		cfg.Breaker = memorybank.BreakerConfig{ConsecutiveFailures: failures, OpenTimeout: openTimeout}
		cfg.Registerer = reg
	}
}

func TestBreakerOpensAfterTransientFailuresAndFailsFast(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		reg := prometheus.NewRegistry()
		c := newClient(t, srv.URL(), flavor, withBreaker(time.Hour, reg))
		ctx := context.Background()
		alice := scope(t, "app1", "alice")
		srv.SetDown(true)

		for i := range failures {
			_, err := c.Search(ctx, alice, query(t, "x", 5))
			if be := bankError(t, err); !be.Transient || be.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("failure %d: got %+v, want a transient 503", i+1, be)
			}
		}
		if got := srv.Requests(); got != failures {
			t.Fatalf("server saw %d requests, want %d", got, failures)
		}

		srv.SetDown(false)
		calls := []func() error{
			func() error { _, err := c.Search(ctx, alice, query(t, "x", 5)); return err },
			func() error { _, err := c.Add(ctx, alice, draft(t, "x", nil), "op"); return err },
			func() error { _, err := c.FindByOperation(ctx, alice, "op", "x"); return err },
			func() error { return c.Ping(ctx) },
			func() error { _, _, err := c.Held(ctx, alice); return err },
			func() error { _, err := c.Get(ctx, alice, missingID); return err },
			func() error { return c.Update(ctx, alice, missingID, "x") },
			func() error { return c.Delete(ctx, alice, missingID) },
			func() error { _, err := c.DeleteAll(ctx, alice); return err },
			func() error { _, err := c.History(ctx, alice, missingID); return err },
		}
		for i, call := range calls {
			err := call()
			be := bankError(t, err)
			if !be.Transient || be.Reason != "circuit open" || !errors.Is(err, gobreaker.ErrOpenState) {
				t.Errorf("call %d while open: got %+v, want a transient circuit-open error", i, be)
			}
		}
		if got := srv.Requests(); got != failures {
			t.Errorf("server saw %d requests, want still %d: an open breaker must not reach it", got, failures)
		}
		if got := metricValue(t, reg, "custom_gpt_memory_bank_breaker_state", nil); got != 2 {
			t.Errorf("breaker_state = %v, want 2 (open)", got)
		}
		if got := metricValue(t, reg, "custom_gpt_memory_bank_requests_total", map[string]string{"operation": "search", "outcome": "circuit_open"}); got != 1 {
			t.Errorf("search circuit_open count = %v, want 1", got)
		}
	})
}

func TestBreakerClosesAfterASuccessfulProbe(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		reg := prometheus.NewRegistry()
		// The shortest open period there is: the next call after tripping is the probe.
		c := newClient(t, srv.URL(), flavor, withBreaker(time.Nanosecond, reg))
		ctx := context.Background()
		alice := scope(t, "app1", "alice")

		srv.FailNext(failures, http.StatusBadGateway)
		for range failures {
			if _, err := c.Search(ctx, alice, query(t, "x", 5)); err == nil {
				t.Fatal("want a failure")
			}
		}
		if _, err := c.Search(ctx, alice, query(t, "x", 5)); err != nil {
			t.Fatalf("probe after the open period: %v", err)
		}
		if got := metricValue(t, reg, "custom_gpt_memory_bank_breaker_state", nil); got != 0 {
			t.Errorf("breaker_state = %v, want 0 (closed)", got)
		}
	})
}

func TestPermanentErrorsDoNotOpenTheBreaker(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor) {
		c := newClient(t, srv.URL(), flavor, withBreaker(time.Hour, nil))
		ctx := context.Background()
		alice := scope(t, "app1", "alice")

		const n = 3 * failures
		srv.FailNext(n, http.StatusBadRequest)
		for range n {
			_, err := c.Add(ctx, alice, draft(t, "x", nil), "op")
			if be := bankError(t, err); be.Transient {
				t.Fatalf("got %+v, want permanent", be)
			}
		}
		if _, err := c.Add(ctx, alice, draft(t, "x", nil), "op"); err != nil {
			t.Fatalf("after %d permanent errors: %v, want the breaker still closed", n, err)
		}
		if got := srv.Requests(); got != n+1 {
			t.Errorf("server saw %d requests, want %d", got, n+1)
		}
	})
}

// blockingServer holds every request until the client gives up, and tells when one arrived.
func blockingServer(t *testing.T) (*httptest.Server, <-chan struct{}, *atomic.Int64) {
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		// The server notices a closed connection only once the body is consumed.
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test
	return srv, arrived, &count
}

func TestTimeoutIsTransientAndCounts(t *testing.T) {
	srv, _, count := blockingServer(t)
	c := newClient(t, srv.URL, memorybank.FlavorOSS, withBreaker(time.Hour, nil), func(cfg *memorybank.Config) {
		cfg.Timeout = 20 * time.Millisecond
	})
	ctx := context.Background()
	for range failures {
		_, err := c.Search(ctx, scope(t, "app1", ""), query(t, "x", 5))
		if be := bankError(t, err); !be.Transient || be.Reason != "timeout" || errors.Is(err, context.Canceled) {
			t.Fatalf("got %+v, want a transient timeout", be)
		}
	}
	_, err := c.Search(ctx, scope(t, "app1", ""), query(t, "x", 5))
	if !errors.Is(err, gobreaker.ErrOpenState) {
		t.Errorf("after %d timeouts: %v, want the breaker open", failures, err)
	}
	if got := count.Load(); got != failures {
		t.Errorf("server saw %d requests, want %d", got, failures)
	}
}

func TestCallerCancellationDoesNotCount(t *testing.T) {
	srv, arrived, count := blockingServer(t)
	c := newClient(t, srv.URL, memorybank.FlavorOSS, withBreaker(time.Hour, nil))
	alice := scope(t, "app1", "")

	for range 2 * failures {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-arrived
			cancel()
		}()
		_, err := c.Search(ctx, alice, query(t, "x", 5))
		cancel()
		if be := bankError(t, err); !errors.Is(err, context.Canceled) || be.Reason != "request cancelled" {
			t.Fatalf("got %+v, want the caller's cancellation", be)
		}
	}

	// Already cancelled: nothing is sent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Search(ctx, alice, query(t, "x", 5)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if got := count.Load(); got != 2*failures {
		t.Errorf("server saw %d requests, want %d", got, 2*failures)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping after cancellations: %v, want the breaker closed", err)
	}
}
