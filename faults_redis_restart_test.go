package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// A redis-server killed and restarted mid-run (append-only file, fsync on every
// write, so what it acknowledged survives): creates are still accepted while it
// is away (each operation keeps its command in Postgres, sent again once it
// stalls), and every 202 ends succeeded with its memory stored exactly once.
func TestFaultRedisRestart(t *testing.T) {
	t.Parallel()
	redis := redistest.StartServer(t, redistest.ServerOptions{AppendOnly: true})
	ctx := faultContext(t, 4*time.Minute)
	perPhase := 300
	if testing.Short() {
		perPhase = 60
	}

	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_REDIS_URL"] = redis.URL()
	// Commands whose operation never committed (their send reached Redis, the
	// answer did not) are dropped after this; no worker dies here.
	e.vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2s"
	e.vars["CUSTOM_GPT_RESEND_AFTER"] = "2s"
	app := e.createApp("Redis restart GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("serve")
	db := e.pool()

	var ok accepted
	var refused, sent, acceptedDown atomic.Int64
	var down atomic.Bool
	var sendErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c := hangGuard(15 * time.Second)
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				sent.Add(1)
				a, id, err := create(ctx, c, e.base, app.APIKey, fmt.Sprintf("client %d memory %d", w, i))
				switch {
				case err != nil:
					sendErr.CompareAndSwap(nil, err)
					return
				case a.status == http.StatusAccepted:
					ok.add(id)
					if down.Load() {
						acceptedDown.Add(1)
					}
				case isProblem503(a):
					refused.Add(1) // never accepted: the caller retries
				default:
					sendErr.CompareAndSwap(nil, fmt.Errorf("create: %d %v", a.status, a.body))
					return
				}
			}
		})
	}
	stopSending := func() {
		close(stop)
		wg.Wait()
		if err := sendErr.Load(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}()

	waitFor(ctx, t, fmt.Sprintf("%d creates are accepted", perPhase), func() bool { return ok.len() >= perPhase || sendErr.Load() != nil })
	redis.Kill()
	down.Store(true)
	waitFor(ctx, t, "creates are accepted while Redis is down", func() bool { return acceptedDown.Load() >= 3 || sendErr.Load() != nil })
	down.Store(false)
	redis.Start()
	after := ok.len()
	waitFor(ctx, t, fmt.Sprintf("%d more creates are accepted after the restart", perPhase), func() bool {
		return ok.len() >= after+perPhase || sendErr.Load() != nil
	})
	stopSending()
	t.Logf("sent %d creates: %d accepted (%d while Redis was down), %d refused with 503",
		sent.Load(), ok.len(), acceptedDown.Load(), refused.Load())

	ids := ok.list()
	waitAllSucceeded(ctx, t, db, ids)
	assertBankHolds(t, e.bank, ids)
	waitStreamsDrained(ctx, t, e)
}
