package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// 2,000 creates while the worker process is killed with SIGKILL three times,
// each time after another quarter of the work is done and while the bank
// holds the answer to an add it stored: the dead worker's consumer is shown
// to have commands pending, a new worker claims them, and every accepted
// memory is stored exactly once, with one terminal audit entry, and nothing
// left pending or parked.
func TestFaultWorkerKilled(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, 5*time.Minute)
	total := 2000
	if testing.Short() {
		total = 200
	}
	const clients = 4

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	// The next worker claims a dead one's deliveries after 2s, and may run them
	// once the lease of the dead attempt ends. The lease must outlast any call
	// the dead worker may have left in flight at the bank: on a loaded machine
	// a call can take seconds, and a lease shorter than that lets a redelivery
	// look for a memory before the dead worker's Add lands, and store it twice.
	e.Vars["CUSTOM_GPT_MEMORY_BANK_TIMEOUT"] = "10s"
	e.Vars["CUSTOM_GPT_WORKER_LEASE"] = "15s"
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2s"
	app := e.CreateApp("Killed worker GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("api")
	db := e.Pool()

	worker := harness.StartChild(t, e, "worker")

	var ok harness.Accepted
	var sendErr atomic.Value
	var wg sync.WaitGroup
	c := harness.HangGuard(10 * time.Second)
	for w := range clients {
		wg.Go(func() {
			for i := w; i < total; i += clients {
				a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, fmt.Sprintf("memory %d survives kill -9", i))
				if err == nil && a.Status != http.StatusAccepted {
					err = fmt.Errorf("create %d: %d %v", i, a.Status, a.Body)
				}
				if err != nil {
					sendErr.CompareAndSwap(nil, err)
					return
				}
				ok.Add(id)
			}
		})
	}

	done := func() int {
		n, _ := harness.OpCounts(ctx, db)
		return n["succeeded"]
	}
	for kill, at := range []int{total / 4, total / 2, total * 3 / 4} {
		harness.WaitForState(ctx, t, fmt.Sprintf("%d operations are done before kill %d", at, kill+1), func() (bool, any) {
			n := done()
			return n >= at || sendErr.Load() != nil, n
		})
		// The kill lands while the bank holds the answer to an add it has
		// stored: that command, at least, is in flight when the worker dies.
		held, release := holdAddAnswers(e)
		select {
		case <-held:
		case <-ctx.Done():
			t.Fatalf("no add reached the bank before kill %d", kill+1)
		}
		worker.Kill()
		inFlight := pendingOf(ctx, t, e, worker.Cmd.Process.Pid)
		if len(inFlight) == 0 {
			t.Fatalf("kill %d interrupted no work: the dead worker's consumer has nothing pending", kill+1)
		}
		release()
		t.Logf("killed the worker with %d of %d operations done, %d commands in flight", done(), total, len(inFlight))
		worker = harness.StartChild(t, e, "worker")
	}
	wg.Wait()
	if err := sendErr.Load(); err != nil {
		t.Fatalf("the API is untouched by worker kills, yet: %v", err)
	}

	ids := ok.List()
	if len(ids) != total {
		t.Fatalf("%d creates accepted, want %d", len(ids), total)
	}
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.AssertCreatesAudited(ctx, t, db, ids)
	harness.WaitStreamsDrained(ctx, t, e)
}

// holdAddAnswers makes the bank keep its answers to adds, each stored before
// its answer is held, until release; held is signalled once the first is held.
func holdAddAnswers(e *harness.Deployment) (held <-chan struct{}, release func()) {
	first, hold := make(chan struct{}, 1), make(chan struct{})
	e.Bank.AfterAdd(func() {
		select {
		case first <- struct{}{}:
		default:
		}
		<-hold
	})
	return first, func() {
		e.Bank.AfterAdd(nil)
		close(hold)
	}
}

// pendingOf lists the CreateMemory commands delivered to worker process pid
// and not acknowledged (XPENDING of its consumers, whose names carry the pid).
func pendingOf(ctx context.Context, t *testing.T, e *harness.Deployment, pid int) []goredis.XPendingExt {
	t.Helper()
	rdb := harness.RedisClientAt(t, e.Vars["CUSTOM_GPT_REDIS_URL"])
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	stream, group := topics.Command("CreateMemory"), topics.ConsumerGroup("CreateMemory")
	consumers, err := rdb.XInfoConsumers(ctx, stream, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	var pending []goredis.XPendingExt
	for _, c := range consumers {
		if !strings.Contains(c.Name, fmt.Sprintf("-%d-", pid)) {
			continue
		}
		p, err := rdb.XPendingExt(ctx, &goredis.XPendingExtArgs{Stream: stream, Group: group, Start: "-", End: "+", Count: 1000, Consumer: c.Name}).Result()
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p...)
	}
	return pending
}
