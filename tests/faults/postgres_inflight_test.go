package faults

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A command in flight when Postgres goes away (its memory stored, the worker's
// commit refused) waits for the database however long the outage lasts: it
// neither spends its retries nor lands on the poison stream, and once Postgres
// is back its operation ends succeeded with its one memory.
func TestFaultPostgresDownHoldsCommandsInFlight(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, 3*time.Minute)

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	// A retry budget far shorter than the outage: spent in ~30 ms.
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "1"
	e.Vars["CUSTOM_GPT_RETRY_INITIAL"] = "10ms"
	e.Vars["CUSTOM_GPT_RETRY_MAX_INTERVAL"] = "20ms"
	proxy := harness.PostgresBehindProxy(t, e)
	app := e.CreateApp("Postgres outage in flight GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("serve")
	c := harness.HangGuard(15 * time.Second)

	// Postgres goes away the moment the Memory Bank has stored the memory,
	// before the worker can commit the operation's success.
	var outage sync.Once
	e.Bank.AfterAdd(func() { outage.Do(proxy.Stop) })
	a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, "stored just before the outage")
	if err != nil || a.Status != http.StatusAccepted {
		t.Fatalf("create: %v %d %v", err, a.Status, a.Body)
	}

	// The worker keeps trying (each attempt fails on the database) more often
	// than its retries would allow; parked, it would have stopped at two.
	failures := `custom_gpt_app_handler_duration_seconds_count{handler="createMemory",outcome="error"}`
	harness.WaitForState(ctx, t, "more failed attempts than the retry budget", func() (bool, any) {
		n, err := harness.Metric(ctx, c, e.Base, failures)
		return err == nil && n >= 4, []any{n, err}
	})

	harness.SwitchOn(t, proxy)
	db := e.Pool()
	harness.WaitAllSucceeded(ctx, t, db, []string{id})
	harness.WaitStreamsDrained(ctx, t, e)
	harness.AssertBankHolds(t, e.Bank, []string{id})
	harness.AssertCreatesAudited(ctx, t, db, []string{id})
}
