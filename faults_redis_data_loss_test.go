package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// Redis loses everything it held (a flush, a restart without persistence, a
// failover to an empty replica): the workers recreate their consumer groups
// and go on without a restart, /readyz names a consumer that cannot read
// while Redis is away, and the commands Redis lost are sent again from their
// operations, each stored once.
func TestFaultRedisLosesItsData(t *testing.T) {
	t.Parallel()
	redis := redistest.StartServer(t, redistest.ServerOptions{}) // restarted, it is empty
	ctx := faultContext(t, 3*time.Minute)
	e := newEnv(t, "mem0-oss")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_REDIS_URL"] = redis.URL()
	e.vars["CUSTOM_GPT_RESEND_AFTER"] = "2s"
	app := e.createApp("Redis loss GPT")
	seedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, faultScope)
	e.start("serve")
	db := e.pool()
	c := hangGuard(15 * time.Second)

	var ids []string
	store := func(what string, n int) {
		t.Helper()
		for i := range n {
			a, id, err := create(ctx, c, e.base, app.APIKey, fmt.Sprintf("%s %d", what, i))
			if err != nil || a.status != http.StatusAccepted {
				t.Fatalf("create %s %d: %v %d %v", what, i, err, a.status, a.body)
			}
			ids = append(ids, id)
		}
	}
	store("before the flush", 20)
	waitAllSucceeded(ctx, t, db, ids)

	// FLUSHALL on a live server: every stream and group is gone at once.
	rdb := redisClientAt(t, redis.URL())
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	store("after the flush", 20)
	waitAllSucceeded(ctx, t, db, ids)

	// Down: readiness names the consumers that cannot read. Creates are
	// still accepted; Redis comes back empty.
	redis.Kill()
	waitForState(ctx, t, "/readyz names a consumer that cannot read", func() (bool, any) {
		a, err := send(ctx, c, http.MethodGet, e.base+"/readyz", "", nil)
		if err != nil {
			return false, err
		}
		msg, _ := a.body["error"].(string)
		return a.status == http.StatusServiceUnavailable && strings.Contains(msg, "cannot read stream"), a
	})
	store("while Redis is away", 5)
	redis.Start()
	waitForState(ctx, t, "/readyz is ready again", func() (bool, any) {
		a, err := send(ctx, c, http.MethodGet, e.base+"/readyz", "", nil)
		return err == nil && a.status == http.StatusOK, a
	})
	store("after the restart", 20)
	waitAllSucceeded(ctx, t, db, ids)
	assertBankHolds(t, e.bank, ids)
	assertCreatesAudited(ctx, t, db, ids)
}
