package redis_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Each command is sent in a producer span, the child of its request's span,
// which its stream entry names as its traceparent; its XADD is a span under
// it that holds no argument (what users wrote). Commands outside a trace
// make no Redis span.
func TestCommandsCarryTheirRequestsTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	opts, err := redis.ParseURL(redistest.URL(), redis.ModeSingle)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts.WithTracer(tp))
	defer client.Close()
	topics := events.Topics{Prefix: redistest.Prefix(t)}
	bus := redis.NewCommandBus(redis.NewCommandPublisher(client), topics, events.Marshaler).WithTracer(tp)

	var reqs []trace.Span
	var pending []redis.Pending
	for _, id := range []string{"op-1", "op-2"} {
		reqCtx, req := tracing.Tracer(tp).Start(ctx, "request")
		req.End()
		reqs = append(reqs, req)
		pending = append(pending, redis.Pending{Ctx: reqCtx, Cmd: &events.DeleteMemory{
			Header: events.Header{Version: events.Version, OperationID: id, AppID: "app-1"}, MemoryID: "secret-memory-id"}})
	}
	for _, batch := range [][]redis.Pending{pending[:1], pending} {
		if _, errs := bus.SendAll(ctx, batch); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}

	entries, err := client.XRange(ctx, topics.Command("DeleteMemory"), "-", "+").Result()
	if err != nil || len(entries) != 3 {
		t.Fatalf("stream holds %v, %v", entries, err)
	}
	spans := rec.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	for i, e := range entries {
		var md map[string]string
		_ = json.Unmarshal([]byte(e.Values["metadata"].(string)), &md)
		parent := trace.SpanContextFromContext(tracing.Extract(ctx, md))
		producer, ok := byID[parent.SpanID()]
		want := reqs[[]int{0, 0, 1}[i]]
		if !ok || producer.SpanKind() != trace.SpanKindProducer || producer.Parent().SpanID() != want.SpanContext().SpanID() {
			t.Errorf("entry %d names %v as its parent, want a producer span under its request", i, parent)
		}
	}
	var alone, shared bool
	for _, s := range spans {
		if !strings.HasPrefix(s.Name(), "redis.pipeline") {
			continue
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), "secret-memory-id") {
				t.Errorf("span %s holds a command's argument: %v", s.Name(), a)
			}
		}
		parent := byID[s.Parent().SpanID()]
		switch {
		case parent != nil && parent.SpanKind() == trace.SpanKindProducer:
			alone = true
		case parent != nil && parent.Name() == "send commands" && len(parent.Links()) == 2 && !parent.Parent().IsValid():
			shared = true
		}
	}
	if !alone || !shared {
		t.Errorf("want one XADD under its command's producer span, and one under a batch linked to both: %v", spanNames(spans))
	}

	before := len(rec.Ended())
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Ended()) - before; n != 0 {
		t.Errorf("a command outside any trace made %d spans", n)
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
