package faults

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// bankOutage is how long the Memory Bank stays down, as issue #5 asks.
const bankOutage = 30 * time.Second

// The Memory Bank down for 30 seconds mid-run: searches answer a 503 problem
// with Retry-After (and do answer), creates are still accepted, and once the
// bank is back every accepted create completes, each stored exactly once.
func TestFaultMemoryBankDown(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, bankOutage+3*time.Minute)

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "2s"
	// Retries outlast the outage (100 retries, at most 2s apart), so a command
	// waits for the bank instead of being parked as poison.
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "100"
	e.Vars["CUSTOM_GPT_RETRY_MAX_INTERVAL"] = "2s"
	// A command retried in place is not a dead consumer's: no claiming here.
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2m"
	app := e.CreateApp("Bank outage GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("serve")
	db := e.Pool()
	c := harness.HangGuard(5 * time.Second)

	var ok harness.Accepted
	createOne := func(content string) {
		t.Helper()
		a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, content)
		if err != nil || a.Status != http.StatusAccepted {
			t.Fatalf("create %q: %d %v %v", content, a.Status, a.Body, err)
		}
		ok.Add(id)
	}
	search := func() harness.Reply {
		t.Helper()
		a, err := harness.Send(ctx, c, "POST", e.Base+"/api/v1/search", app.APIKey, map[string]any{"query": "memory"})
		if err != nil {
			t.Fatalf("search did not answer: %v", err)
		}
		return a
	}

	for i := range 20 {
		createOne(fmt.Sprintf("before the outage %d", i))
	}
	harness.WaitAllSucceeded(ctx, t, db, ok.List())
	if a := search(); a.Status != http.StatusOK {
		t.Fatalf("search before the outage: %d %v", a.Status, a.Body)
	}

	e.Bank.SetDown(true)
	before := ok.Len()
	searches := 0
	tick := time.NewTicker(250 * time.Millisecond) // pacing the load, not waiting for an effect
	for end := time.Now().Add(bankOutage); time.Now().Before(end); <-tick.C {
		createOne(fmt.Sprintf("during the outage %d", ok.Len()-before))
		if a := search(); !harness.IsProblem503(a) {
			t.Fatalf("search during the outage: %d %v %v, want a 503 problem with Retry-After", a.Status, a.Header, a.Body)
		}
		searches++
	}
	tick.Stop()
	if n, _ := harness.OpCounts(ctx, db); n["succeeded"] != before {
		t.Fatalf("operations %v while the bank was down, want only the %d from before", n, before)
	}
	e.Bank.SetDown(false)
	t.Logf("%d creates accepted and %d searches refused during the outage", ok.Len()-before, searches)

	ids := ok.List()
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.AssertCreatesAudited(ctx, t, db, ids)
	harness.WaitFor(ctx, t, "searches answer again", func() bool { return search().Status == http.StatusOK })
	harness.WaitStreamsDrained(ctx, t, e)
}
