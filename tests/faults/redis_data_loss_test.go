package faults

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Redis loses everything it held (a flush, a restart without persistence, a
// failover to an empty replica): the workers recreate their consumer groups
// and go on without a restart, /readyz names a consumer that cannot read
// while Redis is away, and the commands Redis lost are sent again from their
// operations, each stored once.
func TestFaultRedisLosesItsData(t *testing.T) {
	t.Parallel()
	redis := redistest.StartServer(t, redistest.ServerOptions{}) // restarted, it is empty
	ctx := harness.FaultContext(t, 3*time.Minute)
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_REDIS_URL"] = redis.URL()
	e.Vars["CUSTOM_GPT_RESEND_AFTER"] = "2s"
	app := e.CreateApp("Redis loss GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("serve")
	db := e.Pool()
	c := harness.HangGuard(15 * time.Second)

	var ids []string
	store := func(what string, n int) {
		t.Helper()
		for i := range n {
			a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, fmt.Sprintf("%s %d", what, i))
			if err != nil || a.Status != http.StatusAccepted {
				t.Fatalf("create %s %d: %v %d %v", what, i, err, a.Status, a.Body)
			}
			ids = append(ids, id)
		}
	}
	store("before the flush", 20)
	harness.WaitAllSucceeded(ctx, t, db, ids)

	// FLUSHALL on a live server: every stream and group is gone at once.
	rdb := harness.RedisClientAt(t, redis.URL())
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	store("after the flush", 20)
	harness.WaitAllSucceeded(ctx, t, db, ids)

	// Down: readiness names the consumers that cannot read. Creates are
	// still accepted; Redis comes back empty.
	redis.Kill()
	harness.WaitForState(ctx, t, "/readyz names a consumer that cannot read", func() (bool, any) {
		a, err := harness.Send(ctx, c, http.MethodGet, e.Base+"/readyz", "", nil)
		if err != nil {
			return false, err
		}
		msg, _ := a.Body["error"].(string)
		return a.Status == http.StatusServiceUnavailable && strings.Contains(msg, "cannot read stream"), a
	})
	store("while Redis is away", 5)
	redis.Start()
	harness.WaitForState(ctx, t, "/readyz is ready again", func() (bool, any) {
		a, err := harness.Send(ctx, c, http.MethodGet, e.Base+"/readyz", "", nil)
		return err == nil && a.Status == http.StatusOK, a
	})
	store("after the restart", 20)
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.AssertCreatesAudited(ctx, t, db, ids)
}
