package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// operationsOf counts the operations stored for app.
func operationsOf(t *testing.T, e *harness.Deployment, appID string) int {
	t.Helper()
	var n int
	if err := e.BenchPool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_operations WHERE app_id = $1`, appID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantIdemProblem(t *testing.T, what string, code int, body map[string]any, status int, slug string) {
	t.Helper()
	if code != status || body["type"] != "urn:custom-gpt-adapter:problem:"+slug || body["field"] != "Idempotency-Key" {
		t.Fatalf("%s: %d %v, want %d %s on Idempotency-Key", what, code, body, status, slug)
	}
}

// A GPT retrying a create with its Idempotency-Key stores one memory; the key
// cannot be reused for something else, blocks while its first request runs,
// is checked before anything is stored, and is the caller's own.
func TestIdempotencyKeyThroughTheBinary(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a, b := e.CreateApp("Idempotent GPT A"), e.CreateApp("Idempotent GPT B")
	e.Start("serve")
	const create = `{"content": "The user's passport expires in March", "metadata": {"topic": "travel"}}`

	// The same key and body twice: one operation, answered twice alike.
	code, hdr, first := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"create-1"`, create)
	if code != http.StatusAccepted || first["status"] != "pending" || hdr.Get("Idempotency-Replayed") != "" {
		t.Fatalf("first create: %d %v %v", code, first, hdr)
	}
	opID := first["operation_id"].(string)
	location := hdr.Get("Location")
	code, hdr, again := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"create-1"`, create)
	if code != http.StatusAccepted || again["operation_id"] != opID || again["status"] != "pending" ||
		hdr.Get("Idempotency-Replayed") != "true" || hdr.Get("Location") != location {
		t.Fatalf("retried create: %d %v %v, first %v", code, again, hdr, first)
	}
	e.Eventually("the operation succeeds", func() bool { return e.OperationStatus(a.APIKey, opID) == "succeeded" })
	// Still the original answer after the work is done, and still only once.
	code, _, later := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `create-1`, create)
	if code != http.StatusAccepted || later["operation_id"] != opID || later["status"] != "pending" {
		t.Fatalf("create retried after success: %d %v", code, later)
	}
	if n := operationsOf(t, e, a.AppID); n != 1 {
		t.Fatalf("%d operations, want 1", n)
	}
	if n := e.Bank.Count(); n != 1 {
		t.Fatalf("%d memories stored, want 1", n)
	}
	_, _, audit := e.Call("GET", "/admin/v1/audit?app_id="+a.AppID, harness.AdminToken, nil)
	if entries := audit["entries"].([]any); len(entries) != 1 {
		t.Fatalf("audit entries %v", entries)
	}

	// The same key with another body, or at another path, is refused.
	code, _, body := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"create-1"`, `{"content": "Something else"}`)
	wantIdemProblem(t, "reused key", code, body, http.StatusUnprocessableEntity, "idempotency-key-reused")
	code, _, body = e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"create-1"`, `{"content":"The user's passport expires in March","metadata":{"topic":"travel"}}`)
	wantIdemProblem(t, "reused key, same JSON spelt otherwise", code, body, http.StatusUnprocessableEntity, "idempotency-key-reused")

	// Malformed keys: 400 naming the header, before anything is stored.
	for _, key := range []string{`""`, `"unterminated`, strings.Repeat("k", 256), `two words`, "\"caf\u00e9\""} {
		code, _, body := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", key, `{"content": "never stored"}`)
		if code != http.StatusBadRequest || body["field"] != "Idempotency-Key" ||
			!strings.HasPrefix(body["type"].(string), "urn:custom-gpt-adapter:problem:idempotency-key-") {
			t.Fatalf("key %q: %d %v", key, code, body)
		}
	}

	// While a request holds the key, a retry gets 409. The holder is simulated
	// through the store, as if another API process were still running it.
	const held = `{"content": "The user's seat preference is the aisle"}`
	store := postgres.NewIdempotencyStore(e.BenchPool(), postgres.IdempotencyConfig{})
	heldKey, err := idempotency.ParseKey("held-1")
	if err != nil {
		t.Fatal(err)
	}
	scope := idempotency.Scope{AppID: a.AppID}
	d, err := store.Begin(context.Background(), scope, heldKey, idempotency.NewFingerprint("POST", "/api/v1/memories", []byte(held)), time.Now())
	if err != nil || d.Outcome != idempotency.Proceed {
		t.Fatalf("hold the key: %v %+v", err, d)
	}
	code, hdr, body = e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"held-1"`, held)
	wantIdemProblem(t, "key in flight", code, body, http.StatusConflict, "idempotency-key-in-flight")
	if hdr.Get("Retry-After") == "" {
		t.Fatal("409 without Retry-After")
	}
	code, _, body = e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"held-1"`, `{"content": "other"}`)
	wantIdemProblem(t, "other body while in flight", code, body, http.StatusUnprocessableEntity, "idempotency-key-reused")
	if n := operationsOf(t, e, a.AppID); n != 1 {
		t.Fatalf("%d operations after refused requests, want 1", n)
	}
	// The holder fails with a 503: the key is released and the retry runs.
	if err := store.Complete(context.Background(), scope, heldKey, d.Lock, idempotency.Response{Status: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	code, hdr, body = e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"held-1"`, held)
	if code != http.StatusAccepted || hdr.Get("Idempotency-Replayed") != "" || body["operation_id"] == opID {
		t.Fatalf("retry after release: %d %v %v", code, body, hdr)
	}

	// The same key and body from another application is another request.
	code, hdr, other := e.IdemCall(b.APIKey, "POST", "/api/v1/memories", `"create-1"`, create)
	if code != http.StatusAccepted || other["operation_id"] == opID || hdr.Get("Idempotency-Replayed") != "" {
		t.Fatalf("B's create with A's key: %d %v %v", code, other, hdr)
	}
	if n := operationsOf(t, e, b.AppID); n != 1 {
		t.Fatalf("B has %d operations, want 1", n)
	}
	// ... and A's key still replays A's answer.
	if _, _, body := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"create-1"`, create); body["operation_id"] != opID {
		t.Fatalf("A's replay after B's create: %v", body)
	}
	// B cannot follow A's operation through the replay either.
	if code, _, _ := e.Call("GET", location, b.APIKey, nil); code != http.StatusNotFound {
		t.Fatalf("B read A's operation: %d", code)
	}
}

// Concurrent requests with one key: whoever comes second gets 409 or, when the
// first has finished, its answer; one operation either way.
func TestIdempotencyKeyUnderConcurrentRetries(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	a := e.CreateApp("Impatient GPT")
	e.Start("serve")
	const create, callers = `{"content": "The user likes green tea"}`, 6

	type answer struct {
		code     int
		opID     string
		replayed bool
	}
	answers := make([]answer, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			code, hdr, body := e.IdemCall(a.APIKey, "POST", "/api/v1/memories", `"tea"`, create)
			op, _ := body["operation_id"].(string)
			answers[i] = answer{code, op, hdr.Get("Idempotency-Replayed") == "true"}
			if code == http.StatusConflict && body["type"] != "urn:custom-gpt-adapter:problem:idempotency-key-in-flight" {
				t.Errorf("409 %v", body)
			}
		})
	}
	close(start)
	wg.Wait()
	var opID string
	fresh := 0
	for _, ans := range answers {
		switch ans.code {
		case http.StatusAccepted:
			if opID == "" {
				opID = ans.opID
			}
			if ans.opID != opID {
				t.Fatalf("two operations for one key: %+v", answers)
			}
			if !ans.replayed {
				fresh++
			}
		case http.StatusConflict:
		default:
			t.Fatalf("answers %+v", answers)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d requests ran, want 1: %+v", fresh, answers)
	}
	e.Eventually("the operation succeeds", func() bool { return e.OperationStatus(a.APIKey, opID) == "succeeded" })
	if n := operationsOf(t, e, a.AppID); n != 1 {
		t.Fatalf("%d operations, want 1", n)
	}
	if n := e.Bank.Count(); n != 1 {
		t.Fatalf("%d memories, want 1", n)
	}
}

// A search repeated with its Idempotency-Key gets the first answer again and
// is audited once.
func TestSearchHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Search Key GPT")
	e.Start("api")
	search := func() (int, http.Header, map[string]any) {
		req, _ := http.NewRequest("POST", e.Base+"/api/v1/search", strings.NewReader(`{"query":"anything"}`))
		req.Header.Set("Authorization", "Bearer "+app.APIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", `"search-1"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, resp.Header, m
	}
	c1, _, first := search()
	c2, h2, second := search()
	if c1 != http.StatusOK || c2 != http.StatusOK || first["request_id"] != second["request_id"] || h2.Get("Idempotency-Replayed") != "true" {
		t.Fatalf("repeated search: %d %v / %d %v %v", c1, first, c2, second, h2)
	}
	_, _, audit := e.Call("GET", "/admin/v1/audit", harness.AdminToken, nil)
	if n := len(audit["entries"].([]any)); n != 1 {
		t.Fatalf("a replayed search was audited %d times", n)
	}
}
