package faults

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

const breakerGauge = "custom_gpt_memory_bank_breaker_state" // 0 closed, 1 half-open, 2 open

// A Memory Bank behind a proxy that answers too late, then resets connections:
// the breaker opens and searches fail fast without reaching the bank; after the
// open timeout it lets one probe through (half-open), which fails while the
// fault lasts; once the proxy is healthy a probe succeeds and it closes.
func TestFaultBreakerOverToxiproxy(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, 3*time.Minute)

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_TIMEOUT"] = "1s"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "3"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "2s"
	bankURL, err := url.Parse(e.Bank.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := harness.NewProxy(t, "memory-bank", bankURL.Host)
	e.Vars["CUSTOM_GPT_MEMORY_BANK_URL"] = "http://" + proxy.Listen
	app := e.CreateApp("Breaker GPT")
	e.Start("api")
	c := harness.HangGuard(10 * time.Second)

	search := func() harness.Reply {
		t.Helper()
		a, err := harness.Send(ctx, c, "POST", e.Base+"/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
		if err != nil {
			t.Fatalf("search did not answer: %v", err)
		}
		return a
	}
	state := func() float64 {
		t.Helper()
		v, err := harness.Metric(ctx, c, e.Base, breakerGauge)
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
		harness.WaitForState(ctx, t, "the breaker opens under "+fault, func() (bool, any) {
			a := search()
			if a.Status != http.StatusServiceUnavailable {
				t.Fatalf("search under %s: %d %v, want 503", fault, a.Status, a.Body)
			}
			s := state()
			return s == 2, s
		})
	}

	if a := search(); a.Status != http.StatusOK {
		t.Fatalf("search through the healthy proxy: %d %v", a.Status, a.Body)
	}
	wantState("healthy", 0)

	// Answers later than CUSTOM_GPT_MEMORY_BANK_TIMEOUT: each call times out.
	harness.AddToxic(t, proxy, `{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":3000}}`)
	waitOpen("latency")
	reached := e.Bank.Requests()
	for range 5 {
		if a := search(); !harness.IsProblem503(a) {
			t.Fatalf("search with the breaker open: %d %v, want a 503 problem", a.Status, a.Body)
		}
	}
	if n := e.Bank.Requests(); n != reached {
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
			_, _ = harness.Send(ctx, c, "POST", e.Base+"/api/v1/search", app.APIKey, map[string]any{"query": "probe"})
		}
	})
	harness.WaitForState(ctx, t, "the breaker half-opens for a probe", func() (bool, any) { s := state(); return s == 1, s })
	close(stopProbing)
	wg.Wait()
	harness.WaitForState(ctx, t, "the failed probe reopens the breaker", func() (bool, any) { s := state(); return s == 2, s })

	// Connections reset instead: each probe fails at once, and it stays open.
	if err := proxy.Toxics.RemoveToxic(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	harness.AddToxic(t, proxy, `{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`)
	probed := e.Bank.Requests()
	failedProbes := func() float64 {
		t.Helper()
		v, err := harness.Metric(ctx, c, e.Base, `custom_gpt_memory_bank_requests_total{operation="search",outcome="transient_error"}`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	failed := failedProbes()
	harness.WaitForState(ctx, t, "a probe fails on a reset connection", func() (bool, any) {
		if a := search(); !harness.IsProblem503(a) {
			t.Fatalf("search through a resetting proxy: %d %v, want a 503 problem", a.Status, a.Body)
		}
		n := failedProbes()
		return n > failed, n
	})
	wantState("after a reset probe", 2)
	if n := e.Bank.Requests(); n != probed {
		t.Fatalf("the bank got %d requests through a resetting proxy", n-probed)
	}

	// Healthy again: after the open timeout a probe succeeds and closes it.
	if err := proxy.Toxics.RemoveToxic(ctx, "reset"); err != nil {
		t.Fatal(err)
	}
	harness.WaitForState(ctx, t, "a search succeeds again", func() (bool, any) { a := search(); return a.Status == http.StatusOK, a.Status })
	wantState("after a successful probe", 0)
}
