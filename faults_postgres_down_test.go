package main

import (
	"net/http"
	"testing"
	"time"
)

// Postgres unreachable (a proxy in front of it switched off): creates and
// searches answer a 503 problem, never a 202, /readyz answers 503; switched
// back on, the same processes serve again by themselves.
func TestFaultPostgresDown(t *testing.T) {
	t.Parallel()
	ctx := faultContext(t, 3*time.Minute)

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	proxy := postgresBehindProxy(t, e)
	app := e.createApp("Postgres outage GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("serve")
	db := e.pool() // through the proxy too: only used while it is on
	c := hangGuard(15 * time.Second)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s did not answer: %v", what, err)
		}
	}
	ready := func() int {
		t.Helper()
		a, err := send(ctx, c, "GET", e.base+"/readyz", "", nil)
		must("readyz", err)
		return a.status
	}
	searchAnswer := func() reply {
		t.Helper()
		a, err := send(ctx, c, "POST", e.base+"/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
		must("search", err)
		return a
	}
	createAnswer := func(content string) (reply, string) {
		t.Helper()
		a, id, err := create(ctx, c, e.base, app.APIKey, content)
		must("create", err)
		return a, id
	}

	a, first := createAnswer("before the outage")
	if a.status != http.StatusAccepted {
		t.Fatalf("create before the outage: %d %v", a.status, a.body)
	}
	waitAllSucceeded(ctx, t, db, []string{first})
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz before the outage: %d", s)
	}

	proxy.Stop()
	waitFor(ctx, t, "readyz answers 503", func() bool { return ready() == http.StatusServiceUnavailable })
	for i := range 5 {
		if a, _ := createAnswer("during the outage"); !isProblem503(a) {
			t.Fatalf("create %d while Postgres is down: %d %v %v, want a 503 problem", i, a.status, a.header, a.body)
		}
		if a := searchAnswer(); !isProblem503(a) {
			t.Fatalf("search %d while Postgres is down: %d %v %v, want a 503 problem", i, a.status, a.header, a.body)
		}
	}

	switchOn(t, proxy)
	waitFor(ctx, t, "readyz answers 200 again", func() bool { return ready() == http.StatusOK })
	var after string
	waitForState(ctx, t, "a create is accepted again", func() (bool, any) {
		a, id := createAnswer("after the outage")
		after = id
		return a.status == http.StatusAccepted, a.status
	})
	if a := searchAnswer(); a.status != http.StatusOK {
		t.Fatalf("search after the outage: %d %v", a.status, a.body)
	}
	ids := []string{first, after}
	waitAllSucceeded(ctx, t, db, ids)
	assertBankHolds(t, e.bank, ids)
	assertCreatesAudited(ctx, t, db, ids)
}
