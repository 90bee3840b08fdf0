package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// The benchmarks put the adapter next to the same load sent straight to the
// test Memory Bank (the in-process fake mem0, oss flavor), so the figures show
// what the adapter itself adds per request: authentication, validation, the
// audit entry and its outbox event (search), or the operation, audit entry and
// queued command (create). Figures and the command are in BENCHMARKS.md.

func benchEnv(b *testing.B) (*harness.Deployment, harness.OauthApp) {
	b.Helper()
	e := harness.NewDeployment(b, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_LOG_LEVEL"] = "error"
	e.Vars["CUSTOM_GPT_WORKER_LEASE"] = "30s"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_TIMEOUT"] = "10s"
	e.Bank.SetAPIKey("")
	delete(e.Vars, "CUSTOM_GPT_MEMORY_BANK_API_KEY")
	app := e.CreateOAuthApp("Bench GPT")
	e.Start("serve")
	return e, app
}

// parallelisms are the client counts per GOMAXPROCS: light and heavy load.
var parallelisms = []int{1, 8}

func BenchmarkSearch(b *testing.B) {
	e, app := benchEnv(b)
	// 200 memories in the app's scope, stored through the adapter.
	for i := range 200 {
		body, _ := json.Marshal(map[string]any{"content": fmt.Sprintf("memory %d about travel, food and seat preferences", i)})
		if err := harness.Post(e.Base+"/api/v1/memories", app.APIKey, body, http.StatusAccepted); err != nil {
			b.Fatal(err)
		}
	}
	e.Eventually("the seed memories are stored", func() bool { return e.Bank.Count() == 200 })

	direct, _ := json.Marshal(map[string]any{"query": "seat preferences", "agent_id": "custom_gpt:" + app.AppID, "user_id": app.AppID, "limit": 10, "top_k": 10})
	viaAdapter, _ := json.Marshal(map[string]any{"query": "seat preferences", "limit": 10})
	// The same searches with an OAuth access token instead of the API key: the
	// token's signature is checked and its revocation looked up on every call.
	_, _, tok := e.Token(app, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}})
	if tok.AccessToken == "" {
		b.Fatalf("no access token: %+v", tok)
	}
	for _, p := range parallelisms {
		b.Run(fmt.Sprintf("mem0-direct/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error { return harness.Post(e.Bank.URL()+"/search", "", direct, http.StatusOK) })
		})
		b.Run(fmt.Sprintf("adapter/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error { return harness.Post(e.Base+"/api/v1/search", app.APIKey, viaAdapter, http.StatusOK) })
		})
		b.Run(fmt.Sprintf("adapter-oauth/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error {
				return harness.Post(e.Base+"/api/v1/search", tok.AccessToken, viaAdapter, http.StatusOK)
			})
		})
	}
}

func BenchmarkCreate(b *testing.B) {
	e, app := benchEnv(b)
	for _, p := range parallelisms {
		b.Run(fmt.Sprintf("mem0-direct/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(i int) error {
				body, _ := json.Marshal(map[string]any{
					"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("direct memory %d", i)}},
					"agent_id": "custom_gpt:" + app.AppID, "user_id": app.AppID, "infer": false,
				})
				return harness.Post(e.Bank.URL()+"/memories", "", body, http.StatusOK)
			})
		})
		// accepted: the latency a GPT sees, 202 once the command is durably queued.
		b.Run(fmt.Sprintf("adapter-accepted/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(i int) error {
				body, _ := json.Marshal(map[string]any{"content": fmt.Sprintf("adapter memory %d", i)})
				return harness.Post(e.Base+"/api/v1/memories", app.APIKey, body, http.StatusAccepted)
			})
		})
		// stored: creates per second until every operation has succeeded.
		b.Run(fmt.Sprintf("adapter-stored/par=%d", p), func(b *testing.B) {
			e.Eventually("earlier creates are stored", func() bool { return pendingOps(b, e) == 0 })
			start := time.Now()
			harness.Measure(b, p, func(i int) error {
				body, _ := json.Marshal(map[string]any{"content": fmt.Sprintf("stored memory %d", i)})
				return harness.Post(e.Base+"/api/v1/memories", app.APIKey, body, http.StatusAccepted)
			})
			e.Eventually("every create is stored", func() bool { return pendingOps(b, e) == 0 })
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "stored/s")
		})
	}
}

func pendingOps(b *testing.B, e *harness.Deployment) int {
	var n int
	if err := e.BenchPool().QueryRow(context.Background(), "SELECT count(*) FROM custom_gpt_operations WHERE status = 'pending'").Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkSearchBreakerOpen measures the answer to a search while the
// breaker is open: a 503 with Retry-After, without any call to the Memory Bank
// (the failed read is still audited).
func BenchmarkSearchBreakerOpen(b *testing.B) {
	e := harness.NewDeployment(b, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_LOG_LEVEL"] = "error"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN"] = "1h"
	app := e.CreateApp("Bench GPT")
	e.Start("api")
	body, _ := json.Marshal(map[string]any{"query": "seat preferences", "limit": 10})
	e.Bank.SetDown(true)
	if err := harness.Post(e.Base+"/api/v1/search", app.APIKey, body, http.StatusServiceUnavailable); err != nil {
		b.Fatal(err)
	}
	sent := e.Bank.Requests()
	for _, p := range parallelisms {
		b.Run(fmt.Sprintf("adapter/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error {
				return harness.Post(e.Base+"/api/v1/search", app.APIKey, body, http.StatusServiceUnavailable)
			})
		})
	}
	if e.Bank.Requests() != sent {
		b.Fatalf("the bank received %d requests while the breaker was open", e.Bank.Requests()-sent)
	}
}

// BenchmarkCreateToSucceeded measures what a GPT waits for a write to take
// effect: from sending the create to its operation succeeding. Each client
// sends its next create only once the last one succeeded, so the figure is
// latency, not backlog. The end is the operation's own updated_at (the
// worker's clock, the same machine's), so polling for it adds nothing.
//
// one-scope: every client writes to one memory space (an API-key GPT), whose
// writes take effect one after another, in order; own-scope: each client has
// its own (the end users of an OAuth GPT).
func BenchmarkCreateToSucceeded(b *testing.B) {
	e, app := benchEnv(b)
	pool := e.BenchPool()
	ctx := context.Background()
	own := make([]string, slices.Max(parallelisms)*runtime.GOMAXPROCS(0))
	for i := range own {
		own[i] = e.CreateOAuthApp(fmt.Sprintf("Bench GPT %d", i)).APIKey
	}
	for _, scopes := range []string{"one-scope", "own-scope"} {
		for _, p := range parallelisms {
			b.Run(fmt.Sprintf("adapter/%s/par=%d", scopes, p), func(b *testing.B) {
				b.SetParallelism(p)
				var (
					mu      sync.Mutex
					lats    []time.Duration
					clients atomic.Int64
				)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					key := app.APIKey
					if scopes == "own-scope" {
						key = own[int(clients.Add(1)-1)%len(own)]
					}
					for pb.Next() {
						body, _ := json.Marshal(map[string]any{"content": "latency probe " + time.Now().String()})
						t0 := time.Now()
						id, err := createOperation(e.Base, key, body)
						if err != nil {
							b.Error(err)
							return
						}
						done, err := waitSucceeded(ctx, pool, id)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lats = append(lats, done.Sub(t0))
						mu.Unlock()
					}
				})
				b.StopTimer()
				if len(lats) == 0 {
					return
				}
				slices.Sort(lats)
				pct := func(q float64) float64 { return float64(lats[int(q*float64(len(lats)-1))].Microseconds()) / 1000 }
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.99), "p99-ms")
			})
		}
	}
}

// createOperation sends one create and returns its operation id.
func createOperation(base, token string, body []byte) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/memories", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := harness.BenchClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		OperationID string `json:"operation_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("create answered %d (%v)", resp.StatusCode, err)
	}
	return out.OperationID, nil
}

// waitSucceeded polls the operation, backing off to 10 ms, and returns when
// it succeeded by its own clock.
func waitSucceeded(ctx context.Context, pool *pgxpool.Pool, id string) (time.Time, error) {
	deadline := time.Now().Add(30 * time.Second)
	pause := time.Millisecond
	for time.Now().Before(deadline) {
		var (
			status string
			at     time.Time
		)
		if err := pool.QueryRow(ctx, `SELECT status, updated_at FROM custom_gpt_operations WHERE id = $1`, id).Scan(&status, &at); err != nil {
			return time.Time{}, err
		}
		switch status {
		case "succeeded":
			return at, nil
		case "failed":
			return time.Time{}, fmt.Errorf("operation %s failed", id)
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("operation %s still pending", id)
}
