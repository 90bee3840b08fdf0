package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 2,000 creates while the worker process is killed with SIGKILL three times,
// each time after another quarter of the work is done: a new worker claims the
// dead one's pending commands, and every accepted memory is stored exactly
// once, with one terminal audit entry, and nothing left pending or parked.
func TestFaultWorkerKilled(t *testing.T) {
	t.Parallel()
	ctx := faultContext(t, 5*time.Minute)
	total := 2000
	if testing.Short() {
		total = 200
	}
	const clients = 4

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	// The next worker claims a dead one's deliveries after 2s, and may run them
	// once the lease of the dead attempt ends. The lease must outlast any call
	// the dead worker may have left in flight at the bank: on a loaded machine
	// a call can take seconds, and a lease shorter than that lets a redelivery
	// look for a memory before the dead worker's Add lands, and store it twice.
	e.vars["CUSTOM_GPT_MEMORY_BANK_TIMEOUT"] = "10s"
	e.vars["CUSTOM_GPT_WORKER_LEASE"] = "15s"
	e.vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2s"
	app := e.createApp("Killed worker GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("api")
	db := e.pool()

	worker := startChild(t, e, "worker")

	var ok accepted
	var sendErr atomic.Value
	var wg sync.WaitGroup
	c := hangGuard(10 * time.Second)
	for w := range clients {
		wg.Go(func() {
			for i := w; i < total; i += clients {
				a, id, err := create(ctx, c, e.base, app.APIKey, fmt.Sprintf("memory %d survives kill -9", i))
				if err == nil && a.status != http.StatusAccepted {
					err = fmt.Errorf("create %d: %d %v", i, a.status, a.body)
				}
				if err != nil {
					sendErr.CompareAndSwap(nil, err)
					return
				}
				ok.add(id)
			}
		})
	}

	done := func() int {
		n, _ := opCounts(ctx, db)
		return n["succeeded"]
	}
	for kill, at := range []int{total / 4, total / 2, total * 3 / 4} {
		waitForState(ctx, t, fmt.Sprintf("%d operations are done before kill %d", at, kill+1), func() (bool, any) {
			n := done()
			return n >= at || sendErr.Load() != nil, n
		})
		worker.kill()
		t.Logf("killed the worker with %d of %d operations done", done(), total)
		worker = startChild(t, e, "worker")
	}
	wg.Wait()
	if err := sendErr.Load(); err != nil {
		t.Fatalf("the API is untouched by worker kills, yet: %v", err)
	}

	ids := ok.list()
	if len(ids) != total {
		t.Fatalf("%d creates accepted, want %d", len(ids), total)
	}
	waitAllSucceeded(ctx, t, db, ids)
	assertBankHolds(t, e.bank, ids)
	assertCreatesAudited(ctx, t, db, ids)
	waitStreamsDrained(ctx, t, e)
}
