package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Each bad request gets its status and a problem naming the field at fault, and
// nothing reaches the Memory Bank, the operations or the audit (but for the
// wrong admin token, audited as a guess).
func TestBadInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Bad Input GPT")
	disabled := e.CreateApp("Disabled GPT")
	if _, err := e.RunCLI("apps", "disable", disabled.AppID); err != nil {
		t.Fatal(err)
	}
	e.Start("serve")

	long := strings.Repeat("é", 16385)
	tooBig := `{"content":"` + strings.Repeat("a", 1<<20) + `"}`
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		slug, field               string
	}{
		{"malformed json", "POST", "/api/v1/memories", app.APIKey, `{"content": "x"`, 400, "malformed-json", ""},
		{"not json at all", "POST", "/api/v1/search", app.APIKey, `query=x`, 400, "malformed-json", ""},
		{"wrong type", "POST", "/api/v1/search", app.APIKey, `{"query": "x", "limit": "ten"}`, 400, "wrong-type", "limit"},
		{"metadata not an object", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": [1]}`, 400, "wrong-type", "metadata"},
		{"unknown field", "POST", "/api/v1/search", app.APIKey, `{"query": "x", "user_id": "someone-else"}`, 400, "unknown-field", "user_id"},
		{"two documents", "POST", "/api/v1/search", app.APIKey, `{"query": "x"} {"query": "y"}`, 400, "malformed-json", ""},
		{"empty content", "POST", "/api/v1/memories", app.APIKey, `{"content": ""}`, 422, "content-empty", "content"},
		{"missing content", "POST", "/api/v1/memories", app.APIKey, `{}`, 422, "content-empty", "content"},
		{"blank content", "POST", "/api/v1/memories", app.APIKey, `{"content": " \n\t "}`, 422, "content-empty", "content"},
		{"content too long", "POST", "/api/v1/memories", app.APIKey, map[string]any{"content": long}, 422, "content-too-long", "content"},
		{"nested metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"a": {"b": 1}}}`, 422, "metadata-not-flat", "metadata.a"},
		{"reserved metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"app_id": "other"}}`, 422, "metadata-key-reserved", "metadata.app_id"},
		// mem0's identity keys: a caller naming another user's scope in its metadata.
		{"mem0's user_id in metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"user_id": "victim"}}`, 422, "metadata-key-reserved", "metadata.user_id"},
		{"mem0's agent_id in metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"agent_id": "custom_gpt:victim"}}`, 422, "metadata-key-reserved", "metadata.agent_id"},
		{"mem0's run_id in metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"run_id": "r"}}`, 422, "metadata-key-reserved", "metadata.run_id"},
		{"mem0's actor_id in metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"actor_id": "a"}}`, 422, "metadata-key-reserved", "metadata.actor_id"},
		{"mem0's role in metadata", "POST", "/api/v1/memories", app.APIKey, `{"content": "x", "metadata": {"role": "assistant"}}`, 422, "metadata-key-reserved", "metadata.role"},
		{"limit zero", "POST", "/api/v1/search", app.APIKey, `{"query": "x", "limit": 0}`, 422, "limit-out-of-range", "limit"},
		{"limit too high", "POST", "/api/v1/search", app.APIKey, `{"query": "x", "limit": 51}`, 422, "limit-out-of-range", "limit"},
		{"empty query", "POST", "/api/v1/search", app.APIKey, `{"query": ""}`, 422, "query-empty", "query"},
		{"blank query", "POST", "/api/v1/search", app.APIKey, `{"query": "   "}`, 422, "query-empty", "query"},
		{"body over 1 MiB", "POST", "/api/v1/memories", app.APIKey, tooBig, 413, "body-too-large", ""},
		{"missing key", "POST", "/api/v1/search", "", `{"query": "x"}`, 401, "invalid-credentials", ""},
		{"unknown key", "POST", "/api/v1/search", "cgpt_" + strings.Repeat("A", 43), `{"query": "x"}`, 401, "invalid-credentials", ""},
		{"garbage key", "POST", "/api/v1/memories", "not-a-key", `{"content": "x"}`, 401, "invalid-credentials", ""},
		{"disabled app", "POST", "/api/v1/memories", disabled.APIKey, `{"content": "x"}`, 403, "application-disabled", ""},
		{"audit without admin token", "GET", "/admin/v1/audit", app.APIKey, nil, 401, "invalid-admin-token", ""},
		{"audit bad limit", "GET", "/admin/v1/audit?limit=0", harness.AdminToken, nil, 422, "limit-out-of-range", "limit"},
		{"audit bad cursor", "GET", "/admin/v1/audit?cursor=bm90LWEtbnVtYmVy", harness.AdminToken, nil, 422, "cursor-invalid", "cursor"},
		{"unknown operation", "GET", "/api/v1/operations/nope", app.APIKey, nil, 404, "operation-not-found", ""},
		{"body not an object", "POST", "/api/v1/search", app.APIKey, `["x"]`, 400, "wrong-type", ""},
		{"unknown field with a quote", "POST", "/api/v1/search", app.APIKey, `{"query": "x", "a\"b": 1}`, 400, "unknown-field", `a"b`},
		{"NUL in content", "POST", "/api/v1/memories", app.APIKey, `{"content": "a\u0000b"}`, 422, "content-nul", "content"},
		{"NUL in query", "POST", "/api/v1/search", app.APIKey, `{"query": "\u0000"}`, 422, "query-invalid", "query"},
		{"NUL in operation id", "GET", "/api/v1/operations/%00", app.APIKey, nil, 404, "operation-not-found", ""},
	}
	for _, c := range cases {
		code, hdr, body := e.Call(c.method, c.path, c.token, c.body)
		if code != c.status {
			t.Errorf("%s: status %d, want %d (%v)", c.name, code, c.status, body)
			continue
		}
		if ct := hdr.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", c.name, ct)
		}
		if body["type"] != "urn:custom-gpt-adapter:problem:"+c.slug || body["status"] != float64(c.status) {
			t.Errorf("%s: problem %v, want slug %s", c.name, body, c.slug)
		}
		if f, _ := body["field"].(string); f != c.field {
			t.Errorf("%s: field %q, want %q", c.name, f, c.field)
		}
		if c.status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, hdr.Get("WWW-Authenticate"))
		}
	}

	if n := e.Bank.Requests(); n != 0 {
		t.Fatalf("rejected requests reached the Memory Bank %d times", n)
	}
	var ops int
	if err := e.Pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_operations`).Scan(&ops); err != nil || ops != 0 {
		t.Fatalf("rejected requests wrote %d operations (%v)", ops, err)
	}
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	if n, err := redistest.Client(t).XLen(context.Background(), topics.Command("CreateMemory")).Result(); err != nil || n != 0 {
		t.Fatalf("rejected requests queued %d commands (%v)", n, err)
	}
	// The one entry: a wrong admin token is audited (a moment later, in a
	// batch), as guessing it must be seen; nothing else rejected is.
	var entries []any
	e.Eventually("the wrong admin token is audited", func() bool {
		_, _, audit := e.Call("GET", "/admin/v1/audit", harness.AdminToken, nil)
		entries = audit["entries"].([]any)
		return len(entries) > 0
	})
	if len(entries) != 1 || entries[0].(map[string]any)["operation"] != "admin_auth" {
		t.Fatalf("rejected requests were audited: %v", entries)
	}
}

// With Redis unreachable a create is still accepted: its operation, audit
// entry and command commit in Postgres, and a worker sends the command from
// its kept copy once it stalls (here a worker on a Redis that answers, after
// a resend delay of one second). /readyz tells that Redis is missing.
func TestCreateIsAcceptedDurablyWhenTheCommandCannotBeQueued(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RESEND_AFTER"] = "1s"
	app := e.CreateApp("No Redis GPT")
	// A socket in a directory of this test's own, where nothing listens.
	noRedis := e.With(map[string]string{"CUSTOM_GPT_REDIS_URL": "unix://" + addrtest.SocketDir(t) + "/redis.sock?db=0"})
	noRedis.Start("api")

	code, _, body := noRedis.Call("POST", "/api/v1/memories", app.APIKey, map[string]any{"content": "kept anyway"})
	if code != http.StatusAccepted {
		t.Fatalf("create without redis: %d %v", code, body)
	}
	opID := body["operation_id"].(string)
	code, _, _ = noRedis.Call("GET", "/readyz", "", nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("readyz without redis: %d", code)
	}
	var kept int
	if err := e.Pool().QueryRow(context.Background(), "SELECT count(*) FROM custom_gpt_operations WHERE id = $1 AND command IS NOT NULL", opID).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("the accepted operation keeps %d commands (%v)", kept, err)
	}

	e.Start("worker")
	e.Eventually("the worker sends the kept command and stores the memory", func() bool {
		return noRedis.OperationStatus(app.APIKey, opID) == "succeeded"
	})
	if n := e.Bank.Count(); n != 1 {
		t.Fatalf("the Memory Bank holds %d memories, want 1", n)
	}
}
