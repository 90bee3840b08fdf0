package faults

import (
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Redis loses accepted commands (a crash between fsyncs, a failover that
// dropped acknowledged writes): their operations stall, and once the command
// stream is idle the worker sends their kept commands again. Commands still
// in the stream are never resent: each memory is stored exactly once.
func TestFaultRedisLosesCommands(t *testing.T) {
	t.Parallel()
	ctx := harness.FaultContext(t, 2*time.Minute)

	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RESEND_AFTER"] = "1s"
	app := e.CreateApp("Lost commands GPT")
	harness.SeedBank(t, e, "mem0-oss", app.AppID, "custom_gpt:"+app.AppID, harness.FaultScope)
	e.Start("api") // no worker yet: the commands wait on their stream
	c := harness.HangGuard(15 * time.Second)
	accept := func(content string) string {
		t.Helper()
		a, id, err := harness.Create(ctx, c, e.Base, app.APIKey, content)
		if err != nil || a.Status != http.StatusAccepted {
			t.Fatalf("create: %v %d %v", err, a.Status, a.Body)
		}
		return id
	}

	var ids []string
	for range 3 {
		ids = append(ids, accept("accepted, then lost by Redis"))
	}
	stream := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}.Command("CreateMemory")
	if err := redistest.Client(t).Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ids = append(ids, accept("accepted after the loss, still queued"))
	}

	e.Start("worker")
	db := e.Pool()
	harness.WaitAllSucceeded(ctx, t, db, ids)
	harness.AssertBankHolds(t, e.Bank, ids)
	harness.AssertCreatesAudited(ctx, t, db, ids)
	var kept int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_operations WHERE command IS NOT NULL`).Scan(&kept); err != nil || kept != 0 {
		t.Fatalf("%d finished operations still keep their command (%v), want 0", kept, err)
	}
}
