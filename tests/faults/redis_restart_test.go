package faults

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A redis-server killed and restarted mid-run (append-only file, fsync on every
// write, so what it acknowledged survives): creates are still accepted while it
// is away (each operation keeps its command in Postgres, sent again once it
// stalls), and every 202 ends succeeded with its memory stored exactly once.
func TestFaultRedisRestart(t *testing.T) {
	t.Parallel()
	redis := redistest.StartServer(t, redistest.ServerOptions{AppendOnly: true})
	ctx := harness.FaultContext(t, 4*time.Minute)
	perPhase := 300
	if testing.Short() {
		perPhase = 60
	}

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_REDIS_URL"] = redis.URL()
	// Commands whose operation never committed (their send reached Redis, the
	// answer did not) are dropped after this; no worker dies here.
	e.Vars["CUSTOM_GPT_WORKER_CLAIM_IDLE"] = "2s"
	e.Vars["CUSTOM_GPT_RESEND_AFTER"] = "2s"
	app := e.CreateApp("Redis restart GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("serve")
	db := e.Pool()

	var ok harness.Accepted
	var refused, sent, acceptedDown atomic.Int64
	var down atomic.Bool
	var sendErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	c := harness.HangGuard(15 * time.Second)
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
				a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, fmt.Sprintf("client %d memory %d", w, i))
				switch {
				case err != nil:
					sendErr.CompareAndSwap(nil, err)
					return
				case a.Status == http.StatusAccepted:
					ok.Add(id)
					if down.Load() {
						acceptedDown.Add(1)
					}
				case harness.IsProblem503(a):
					refused.Add(1) // never accepted: the caller retries
				default:
					sendErr.CompareAndSwap(nil, fmt.Errorf("create: %d %v", a.Status, a.Body))
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

	harness.WaitFor(ctx, t, fmt.Sprintf("%d creates are accepted", perPhase), func() bool { return ok.Len() >= perPhase || sendErr.Load() != nil })
	redis.Kill()
	down.Store(true)
	harness.WaitFor(ctx, t, "creates are accepted while Redis is down", func() bool { return acceptedDown.Load() >= 3 || sendErr.Load() != nil })
	down.Store(false)
	redis.Start()
	after := ok.Len()
	harness.WaitFor(ctx, t, fmt.Sprintf("%d more creates are accepted after the restart", perPhase), func() bool {
		return ok.Len() >= after+perPhase || sendErr.Load() != nil
	})
	stopSending()
	t.Logf("sent %d creates: %d accepted (%d while Redis was down), %d refused with 503",
		sent.Load(), ok.Len(), acceptedDown.Load(), refused.Load())

	ids := ok.List()
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.WaitStreamsDrained(ctx, t, e)
}
