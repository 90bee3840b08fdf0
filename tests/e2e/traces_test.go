package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// One create through the real router, Redis stream, worker and a mem0 is one
// connected trace: the Memory Bank's call descends, span by span, from the
// request's server span, through the accepting transaction, the command's
// producer span and the worker's consumer span; the completion and the
// event's relay are in it too. The trace id is in the request's log lines,
// its audit entry and its event. Spans are recorded in memory by a provider
// of the test's own, so the test runs beside others.
func TestOneCreateIsOneTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	e := harness.NewDeployment(t, "mem0-oss")
	e.Options = []service.Option{service.WithTracerProvider(tp)}
	e.Vars["CUSTOM_GPT_LOG_LEVEL"] = "debug"
	e.Logs = &harness.LogLines{}
	if out, err := e.RunCLI("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	app := e.CreateApp("Traced GPT")
	e.Start("serve")

	opID := e.AcceptCreate(app.APIKey, "The user prefers aisle seats")
	e.Succeeded(app.APIKey, opID)
	prefix := e.Vars["CUSTOM_GPT_STREAM_PREFIX"]

	var (
		spans  []sdktrace.ReadOnlySpan
		server sdktrace.ReadOnlySpan
		calls  []sdktrace.ReadOnlySpan
	)
	relay := "relay " + prefix + ".events.MemoryCreated"
	e.Eventually("the request, the Memory Bank's call and the event's relay are recorded", func() bool {
		spans, server, calls = rec.Ended(), nil, nil
		var relayed bool
		for _, s := range spans {
			switch {
			case s.SpanKind() == trace.SpanKindServer && s.Name() == "POST /api/v1/memories":
				server = s
			case s.SpanKind() == trace.SpanKindClient && s.Name() == "POST memory-bank":
				calls = append(calls, s)
			case s.Name() == relay:
				relayed = true
			}
		}
		return server != nil && len(calls) > 0 && relayed
	})
	if len(calls) != 1 {
		t.Fatalf("%d Memory Bank calls, want the one add", len(calls))
	}
	traceID := server.SpanContext().TraceID()
	if server.Parent().IsValid() {
		t.Errorf("the request's server span has a parent %v: the test sent no traceparent", server.Parent())
	}

	// The call's ancestry, up to the server span, all in one trace.
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	var path []string
	for s := calls[0]; ; {
		if s.SpanContext().TraceID() != traceID {
			t.Fatalf("span %q is in trace %s, the request's is %s (path %v)", s.Name(), s.SpanContext().TraceID(), traceID, path)
		}
		path = append(path, s.Name())
		if s.SpanContext().SpanID() == server.SpanContext().SpanID() {
			break
		}
		parent, ok := byID[s.Parent().SpanID()]
		if !ok {
			t.Fatalf("the Memory Bank call's ancestry stops at %q, short of the request (path %v)", s.Name(), path)
		}
		s = parent
	}
	t.Logf("from the Memory Bank call up to the request: %v", path)
	for _, hop := range []string{"process " + prefix + ".commands.CreateMemory", "send " + prefix + ".commands.CreateMemory"} {
		if !contains(path, hop) {
			t.Errorf("the path from the request to the Memory Bank %v lacks %q", path, hop)
		}
	}

	// What else the trace holds: both transactions, Redis's and Postgres's
	// own spans, and the event's relay.
	count := map[string]int{}
	for _, s := range spans {
		if s.SpanContext().TraceID() == traceID {
			count[s.Name()]++
			if strings.HasPrefix(s.Name(), "redis.") {
				count["redis"]++
			}
			for _, a := range s.Attributes() {
				if a.Key == "db.system.name" && a.Value.AsString() == "postgresql" {
					count["postgresql"]++
				}
			}
		}
	}
	if count["postgres.transaction"] < 2 || count["redis"] == 0 || count["postgresql"] == 0 || count[relay] != 1 {
		t.Errorf("the trace lacks the accepting and completing transactions, Redis's or Postgres's spans, or the relay: %v", count)
	}

	want := traceID.String()
	if lines := e.Logs.Matching(`"trace_id":"` + want + `"`); len(lines) == 0 {
		t.Errorf("no log line names the request's trace %s", want)
	}
	code, _, body := e.Call("GET", "/admin/v1/audit?app_id="+app.AppID, harness.AdminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("audit: %d %v", code, body)
	}
	var audited bool
	for _, x := range body["entries"].([]any) {
		m := x.(map[string]any)
		if m["operation_id"] == opID {
			audited = m["trace_id"] == want
		}
	}
	if !audited {
		t.Errorf("the create's audit entry lacks trace_id %s: %v", want, body["entries"])
	}
	entries, err := redistest.Client(t).XRange(context.Background(), events.Topics{Prefix: prefix}.Event("MemoryCreated"), "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("MemoryCreated stream: %v %v", entries, err)
	}
	var md map[string]string
	_ = json.Unmarshal([]byte(entries[0].Values["metadata"].(string)), &md)
	if !strings.Contains(md[events.CETraceParent], want) || !strings.Contains(md[events.TraceParent], want) {
		t.Errorf("MemoryCreated's metadata %v lacks the trace", md)
	}
}

// A CUSTOM_GPT_TRACING the service cannot read stops it at start, naming the
// variable.
func TestUnreadableTracingSettingStopsTheStart(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded").With(map[string]string{"CUSTOM_GPT_TRACING": "sometimes"})
	code, stderr := e.RunMain("serve")
	if code != 1 || !strings.Contains(stderr, "CUSTOM_GPT_TRACING") {
		t.Fatalf("serve exited %d, stderr %q; want 1 naming CUSTOM_GPT_TRACING", code, stderr)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
