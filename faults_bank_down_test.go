package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// bankOutage is how long the Memory Bank stays down, as issue #5 asks.
const bankOutage = 30 * time.Second

// The Memory Bank down for 30 seconds mid-run: searches answer a 503 problem
// with Retry-After (and do answer), creates are still accepted, and once the
// bank is back every accepted create completes, each stored exactly once.
func TestFaultMemoryBankDown(t *testing.T) {
	t.Parallel()
	ctx := faultContext(t, bankOutage+3*time.Minute)

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "2s"
	// Retries outlast the outage (100 retries, at most 2s apart), so a command
	// waits for the bank instead of being parked as poison.
	e.vars["CUSTOM_GPT_RETRY_MAX"] = "100"
	e.vars["CUSTOM_GPT_RETRY_MAX_INTERVAL"] = "2s"
	// A command retried in place is not a dead consumer's: no claiming here.
	e.vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2m"
	app := e.createApp("Bank outage GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("serve")
	db := e.pool()
	c := hangGuard(5 * time.Second)

	var ok accepted
	createOne := func(content string) {
		t.Helper()
		a, id, err := create(ctx, c, e.base, app.APIKey, content)
		if err != nil || a.status != http.StatusAccepted {
			t.Fatalf("create %q: %d %v %v", content, a.status, a.body, err)
		}
		ok.add(id)
	}
	search := func() reply {
		t.Helper()
		a, err := send(ctx, c, "POST", e.base+"/api/v1/search", app.APIKey, map[string]any{"query": "memory"})
		if err != nil {
			t.Fatalf("search did not answer: %v", err)
		}
		return a
	}

	for i := range 20 {
		createOne(fmt.Sprintf("before the outage %d", i))
	}
	waitAllSucceeded(ctx, t, db, ok.list())
	if a := search(); a.status != http.StatusOK {
		t.Fatalf("search before the outage: %d %v", a.status, a.body)
	}

	e.bank.SetDown(true)
	before := ok.len()
	searches := 0
	tick := time.NewTicker(250 * time.Millisecond) // pacing the load, not waiting for an effect
	for end := time.Now().Add(bankOutage); time.Now().Before(end); <-tick.C {
		createOne(fmt.Sprintf("during the outage %d", ok.len()-before))
		if a := search(); !isProblem503(a) {
			t.Fatalf("search during the outage: %d %v %v, want a 503 problem with Retry-After", a.status, a.header, a.body)
		}
		searches++
	}
	tick.Stop()
	if n, _ := opCounts(ctx, db); n["succeeded"] != before {
		t.Fatalf("operations %v while the bank was down, want only the %d from before", n, before)
	}
	e.bank.SetDown(false)
	t.Logf("%d creates accepted and %d searches refused during the outage", ok.len()-before, searches)

	ids := ok.list()
	waitAllSucceeded(ctx, t, db, ids)
	assertBankHolds(t, e.bank, ids)
	assertCreatesAudited(ctx, t, db, ids)
	waitFor(ctx, t, "searches answer again", func() bool { return search().status == http.StatusOK })
	waitStreamsDrained(ctx, t, e)
}
