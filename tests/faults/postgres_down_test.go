package faults

import (
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Postgres unreachable (a proxy in front of it switched off): creates and
// searches answer a 503 problem, never a 202, /readyz answers 503; switched
// back on, the same processes serve again by themselves.
func TestFaultPostgresDown(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, 3*time.Minute)

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	proxy := harness.PostgresBehindProxy(t, e)
	app := e.CreateApp("Postgres outage GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("serve")
	db := e.Pool() // through the proxy too: only used while it is on
	c := harness.HangGuard(15 * time.Second)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s did not answer: %v", what, err)
		}
	}
	ready := func() int {
		t.Helper()
		a, err := harness.Send(ctx, c, "GET", e.Base+"/readyz", "", nil)
		must("readyz", err)
		return a.Status
	}
	searchAnswer := func() harness.Reply {
		t.Helper()
		a, err := harness.Send(ctx, c, "POST", e.Base+"/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
		must("search", err)
		return a
	}
	createAnswer := func(content string) (harness.Reply, string) {
		t.Helper()
		a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, content)
		must("create", err)
		return a, id
	}

	a, first := createAnswer("before the outage")
	if a.Status != http.StatusAccepted {
		t.Fatalf("create before the outage: %d %v", a.Status, a.Body)
	}
	harness.WaitAllSucceeded(ctx, t, db, []string{first})
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz before the outage: %d", s)
	}

	proxy.Stop()
	harness.WaitFor(ctx, t, "readyz answers 503", func() bool { return ready() == http.StatusServiceUnavailable })
	for i := range 5 {
		if a, _ := createAnswer("during the outage"); !harness.IsProblem503(a) {
			t.Fatalf("create %d while Postgres is down: %d %v %v, want a 503 problem", i, a.Status, a.Header, a.Body)
		}
		if a := searchAnswer(); !harness.IsProblem503(a) {
			t.Fatalf("search %d while Postgres is down: %d %v %v, want a 503 problem", i, a.Status, a.Header, a.Body)
		}
	}

	harness.SwitchOn(t, proxy)
	harness.WaitFor(ctx, t, "readyz answers 200 again", func() bool { return ready() == http.StatusOK })
	var after string
	harness.WaitForState(ctx, t, "a create is accepted again", func() (bool, any) {
		a, id := createAnswer("after the outage")
		after = id
		return a.Status == http.StatusAccepted, a.Status
	})
	if a := searchAnswer(); a.Status != http.StatusOK {
		t.Fatalf("search after the outage: %d %v", a.Status, a.Body)
	}
	ids := []string{first, after}
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.AssertCreatesAudited(ctx, t, db, ids)
}
