package main

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

const breakerGauge = "custom_gpt_memory_bank_breaker_state" // 0 closed, 1 half-open, 2 open

// A Memory Bank behind a proxy that answers too late, then resets connections:
// the breaker opens and searches fail fast without reaching the bank; after the
// open timeout it lets one probe through (half-open), which fails while the
// fault lasts; once the proxy is healthy a probe succeeds and it closes.
func TestFaultBreakerOverToxiproxy(t *testing.T) {
	t.Parallel()
	ctx := faultContext(t, 3*time.Minute)

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_MEMORY_BANK_TIMEOUT"] = "1s"
	e.vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "3"
	e.vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "2s"
	bankURL, err := url.Parse(e.bank.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, "memory-bank", bankURL.Host)
	e.vars["CUSTOM_GPT_MEMORY_BANK_URL"] = "http://" + proxy.Listen
	app := e.createApp("Breaker GPT")
	e.start("api")
	c := hangGuard(10 * time.Second)

	search := func() reply {
		t.Helper()
		a, err := send(ctx, c, "POST", e.base+"/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
		if err != nil {
			t.Fatalf("search did not answer: %v", err)
		}
		return a
	}
	state := func() float64 {
		t.Helper()
		v, err := metric(ctx, c, e.base, breakerGauge)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	wantState := func(when string, want float64) {
		t.Helper()
		if got := state(); got != want {
			t.Fatalf("%s: breaker state %v, want %v", when, got, want)
		}
	}
	// waitOpen waits until the breaker is open under the current fault.
	waitOpen := func(fault string) {
		t.Helper()
		waitForState(ctx, t, "the breaker opens under "+fault, func() (bool, any) {
			a := search()
			if a.status != http.StatusServiceUnavailable {
				t.Fatalf("search under %s: %d %v, want 503", fault, a.status, a.body)
			}
			s := state()
			return s == 2, s
		})
	}

	if a := search(); a.status != http.StatusOK {
		t.Fatalf("search through the healthy proxy: %d %v", a.status, a.body)
	}
	wantState("healthy", 0)

	// Answers later than CUSTOM_GPT_MEMORY_BANK_TIMEOUT: each call times out.
	addToxic(t, proxy, `{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":3000}}`)
	waitOpen("latency")
	reached := e.bank.Requests()
	for range 5 {
		if a := search(); !isProblem503(a) {
			t.Fatalf("search with the breaker open: %d %v, want a 503 problem", a.status, a.body)
		}
	}
	if n := e.bank.Requests(); n != reached {
		t.Fatalf("the bank got %d requests while the breaker was open", n-reached)
	}

	// After the open timeout one probe goes through; it hangs on the latency,
	// and meanwhile the breaker is half-open; then it fails and reopens. The
	// prober finishes its request rather than abandon it: an abandoned call
	// counts for nothing.
	var wg sync.WaitGroup
	stopProbing := make(chan struct{})
	wg.Go(func() {
		pace := time.NewTicker(50 * time.Millisecond) // pacing the load, not waiting for an effect
		defer pace.Stop()
		for {
			select {
			case <-stopProbing:
				return
			case <-pace.C:
			}
			_, _ = send(ctx, c, "POST", e.base+"/api/v1/search", app.APIKey, map[string]any{"query": "probe"})
		}
	})
	waitForState(ctx, t, "the breaker half-opens for a probe", func() (bool, any) { s := state(); return s == 1, s })
	close(stopProbing)
	wg.Wait()
	waitForState(ctx, t, "the failed probe reopens the breaker", func() (bool, any) { s := state(); return s == 2, s })

	// Connections reset instead: each probe fails at once, and it stays open.
	if err := proxy.Toxics.RemoveToxic(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	addToxic(t, proxy, `{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`)
	probed := e.bank.Requests()
	failedProbes := func() float64 {
		t.Helper()
		v, err := metric(ctx, c, e.base, `custom_gpt_memory_bank_requests_total{operation="search",outcome="transient_error"}`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	failed := failedProbes()
	waitForState(ctx, t, "a probe fails on a reset connection", func() (bool, any) {
		if a := search(); !isProblem503(a) {
			t.Fatalf("search through a resetting proxy: %d %v, want a 503 problem", a.status, a.body)
		}
		n := failedProbes()
		return n > failed, n
	})
	wantState("after a reset probe", 2)
	if n := e.bank.Requests(); n != probed {
		t.Fatalf("the bank got %d requests through a resetting proxy", n-probed)
	}

	// Healthy again: after the open timeout a probe succeeds and closes it.
	if err := proxy.Toxics.RemoveToxic(ctx, "reset"); err != nil {
		t.Fatal(err)
	}
	waitForState(ctx, t, "a search succeeds again", func() (bool, any) { a := search(); return a.status == http.StatusOK, a.status })
	wantState("after a successful probe", 0)
}
