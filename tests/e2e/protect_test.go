package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// While the breaker is open a search answers 503 at once, with the time left
// until the breaker lets a probe through, and never reaches the Memory Bank.
func TestSearchAnswers503WhileBreakerOpen(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "2"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "1m"
	app := e.CreateApp("Breaker GPT")
	e.Start("api") // no worker: only searches reach the bank

	search := func() (int, http.Header, map[string]any) {
		return e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "anything"})
	}
	e.Bank.SetDown(true)
	for range 2 {
		if code, _, body := search(); code != http.StatusServiceUnavailable {
			t.Fatalf("search while the bank is down: %d %v", code, body)
		}
	}
	sent := e.Bank.Requests()
	e.Bank.SetDown(false) // the breaker, not the bank, answers from now on
	for range 3 {
		code, hdr, body := search()
		if code != http.StatusServiceUnavailable || body["type"] != "urn:custom-gpt-adapter:problem:memory-bank-unavailable" ||
			hdr.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("search while the breaker is open: %d %v", code, body)
		}
		// About the minute the breaker stays open, not the generic 5 s.
		if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s <= 5 || s > 60 {
			t.Fatalf("Retry-After %q, want the seconds until the breaker half-opens", hdr.Get("Retry-After"))
		}
	}
	if got := e.Bank.Requests(); got != sent {
		t.Fatalf("the bank received %d requests while the breaker was open", got-sent)
	}
}

// Creates accepted while the Memory Bank is down stay pending: once the breaker
// is open their commands are held and redelivered without spending retries,
// never parked. When the bank is back, each is stored exactly once.
func TestCreatesStayQueuedWhileMemoryBankIsDown(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "2"
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "3"
	app := e.CreateApp("Outage GPT")
	e.Bank.SetDown(true)
	e.Start("serve")

	var ops []string
	for i := range 5 {
		ops = append(ops, e.AcceptCreate(app.APIKey, fmt.Sprintf("fact %d", i)))
	}
	// Several breaker probes have failed: every command met the open breaker
	// more often than its retries would allow.
	e.Eventually("the worker probes the bank repeatedly", func() bool { return e.Bank.Requests() >= 12 })
	for _, op := range ops {
		if s := e.OperationStatus(app.APIKey, op); s != "pending" {
			t.Fatalf("operation %s is %s while the bank is down, want pending", op, s)
		}
	}
	rdb := redistest.Client(t)
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	if n, _ := rdb.XLen(context.Background(), topics.Poison()).Result(); n != 0 {
		t.Fatalf("%d commands were parked during the outage", n)
	}

	e.Bank.SetDown(false)
	for _, op := range ops {
		e.Eventually("operation "+op+" succeeds after recovery", func() bool { return e.OperationStatus(app.APIKey, op) == "succeeded" })
		assertOneTerminalAudit(t, e, op, "succeeded")
	}
	var stored []string
	for _, m := range e.Bank.Memories() {
		stored = append(stored, fmt.Sprint(m.Metadata["operation_id"]))
	}
	slices.Sort(stored)
	want := slices.Sorted(slices.Values(ops))
	if !slices.Equal(stored, want) {
		t.Fatalf("the bank holds memories of operations %v, want each of %v once", stored, want)
	}
}

// Under a flood and a low budget, creates wait for the budget instead of
// failing, and complete in the order they were accepted.
func TestFloodOfCreatesCompletesInOrderWithinBudget(t *testing.T) {
	t.Parallel()
	const n, rate, burst = 100, 20, 1
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_WORKER_CONCURRENCY"] = "1"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_RATE"] = strconv.Itoa(rate)
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BURST"] = strconv.Itoa(burst)
	app := e.CreateApp("Flood GPT")
	e.Start("serve")

	// No create can reach the bank before the first is sent, so the budget
	// alone makes the flood take this long, however loaded the machine.
	start := time.Now()
	accepted := make([]string, 0, n)
	for i := range n {
		accepted = append(accepted, e.AcceptCreate(app.APIKey, fmt.Sprintf("flood %d", i)))
	}
	db := e.Pool()
	e.Eventually("every create succeeds", func() bool {
		var done int
		_ = db.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_operations WHERE status = 'succeeded'`).Scan(&done)
		return done == n
	})
	// The budget (GCRA) lets burst creates through at once and one every
	// 1/rate after; how many waited (throttled_total) depends on how fast the
	// machine sent them, so only the time taken is asserted.
	if took, least := time.Since(start), time.Duration(n-burst)*time.Second/rate; took < least {
		t.Fatalf("%d creates reached the bank in %v, faster than a budget of %d/s with a burst of %d allows (%v)", n, took, rate, burst, least)
	}
	var failed int
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_operations WHERE status <> 'succeeded'`).Scan(&failed)
	if failed != 0 {
		t.Fatalf("%d operations did not succeed", failed)
	}
	var stored []string
	for _, m := range e.Bank.Memories() {
		stored = append(stored, fmt.Sprint(m.Metadata["operation_id"]))
	}
	if !slices.Equal(stored, accepted) {
		t.Fatalf("the bank stored the memories out of acceptance order:\n got %v\nwant %v", stored, accepted)
	}
	rows, err := db.Query(context.Background(), `SELECT id FROM custom_gpt_operations ORDER BY updated_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	var completed []string
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		completed = append(completed, id)
	}
	rows.Close()
	if !slices.Equal(completed, accepted) {
		t.Fatalf("operations completed out of acceptance order")
	}
}
