package main

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// A command in flight when Postgres goes away (its memory stored, the worker's
// commit refused) waits for the database however long the outage lasts: it
// neither spends its retries nor lands on the poison stream, and once Postgres
// is back its operation ends succeeded with its one memory.
func TestFaultPostgresDownHoldsCommandsInFlight(t *testing.T) {
	t.Parallel()
	ctx := faultContext(t, 3*time.Minute)

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	// A retry budget far shorter than the outage: spent in ~30 ms.
	e.vars["CUSTOM_GPT_RETRY_MAX"] = "1"
	e.vars["CUSTOM_GPT_RETRY_INITIAL"] = "10ms"
	e.vars["CUSTOM_GPT_RETRY_MAX_INTERVAL"] = "20ms"
	proxy := postgresBehindProxy(t, e)
	app := e.createApp("Postgres outage in flight GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("serve")
	c := hangGuard(15 * time.Second)

	// Postgres goes away the moment the Memory Bank has stored the memory,
	// before the worker can commit the operation's success.
	var outage sync.Once
	e.bank.AfterAdd(func() { outage.Do(proxy.Stop) })
	a, id, err := create(ctx, c, e.base, app.APIKey, "stored just before the outage")
	if err != nil || a.status != http.StatusAccepted {
		t.Fatalf("create: %v %d %v", err, a.status, a.body)
	}

	// The worker keeps trying (each attempt fails on the database) more often
	// than its retries would allow; parked, it would have stopped at two.
	failures := `custom_gpt_app_handler_duration_seconds_count{handler="createMemory",outcome="error"}`
	waitForState(ctx, t, "more failed attempts than the retry budget", func() (bool, any) {
		n, err := metric(ctx, c, e.base, failures)
		return err == nil && n >= 4, []any{n, err}
	})

	switchOn(t, proxy)
	db := e.pool()
	waitAllSucceeded(ctx, t, db, []string{id})
	waitStreamsDrained(ctx, t, e)
	assertBankHolds(t, e.bank, []string{id})
	assertCreatesAudited(ctx, t, db, []string{id})
}
