package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func recorder() (*tracetest.SpanRecorder, trace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	return rec, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
}

func TestOnOnlyForARecordingProvider(t *testing.T) {
	_, tp := recorder()
	if On(nil) || On(noop.NewTracerProvider()) || !On(tp) {
		t.Fatal("On must be false for nil and the no-op provider, true for an SDK provider")
	}
}

func TestChildrenOnlyStartsNoTraceOfItsOwn(t *testing.T) {
	rec, tp := recorder()
	lib := ChildrenOnly(tp).Tracer("lib")
	_, orphan := lib.Start(context.Background(), "poll")
	orphan.End()
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("a span without a parent was recorded (%d)", n)
	}
	ctx, parent := Tracer(tp).Start(context.Background(), "request")
	_, child := lib.Start(ctx, "GET")
	child.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "GET" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("the child of a request was not recorded under it: %v", ended)
	}
}

func TestMetadataCarriesTheSpanAcrossAMessage(t *testing.T) {
	_, tp := recorder()
	ctx, span := Tracer(tp).Start(context.Background(), "publish")
	defer span.End()
	msg := message.NewMessage("1", nil)
	Inject(ctx, msg.Metadata)
	if !strings.Contains(msg.Metadata.Get("traceparent"), span.SpanContext().TraceID().String()) {
		t.Fatalf("metadata %v lacks the trace", msg.Metadata)
	}
	got := trace.SpanContextFromContext(Extract(context.Background(), msg.Metadata))
	if !got.IsRemote() || got.SpanID() != span.SpanContext().SpanID() || got.TraceID() != span.SpanContext().TraceID() {
		t.Fatalf("extracted %v, want the publisher's span", got)
	}

	empty := message.NewMessage("2", nil)
	Inject(context.Background(), empty.Metadata)
	if len(empty.Metadata) != 0 {
		t.Fatalf("a context without a span wrote %v", empty.Metadata)
	}
}

func TestTraceParentRoundTrips(t *testing.T) {
	_, tp := recorder()
	ctx, span := Tracer(tp).Start(context.Background(), "x")
	defer span.End()
	tpv := TraceParent(ctx)
	if tpv == "" || TraceParent(context.Background()) != "" {
		t.Fatalf("traceparent %q", tpv)
	}
	back := trace.SpanContextFromContext(WithTraceParent(context.Background(), tpv))
	if back.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("%q came back as %v", tpv, back)
	}
	if trace.SpanContextFromContext(WithTraceParent(context.Background(), "garbage")).IsValid() {
		t.Fatal("a malformed traceparent gave a parent")
	}
}

func TestStartBatch(t *testing.T) {
	rec, tp := recorder()
	tracer := Tracer(tp)
	a, sa := tracer.Start(context.Background(), "a")
	b, sb := tracer.Start(context.Background(), "b")

	_, one := StartBatch(context.Background(), tracer, "commit", []context.Context{a})
	one.End()
	_, many := StartBatch(context.Background(), tracer, "commit", []context.Context{a, b})
	many.End()
	sa.End()
	sb.End()

	ended := rec.Ended()
	alone, shared := ended[0], ended[1]
	if alone.Parent().SpanID() != sa.SpanContext().SpanID() || alone.SpanContext().TraceID() != sa.SpanContext().TraceID() {
		t.Errorf("a batch of one is not its member's child: parent %v", alone.Parent())
	}
	if shared.Parent().IsValid() || shared.SpanContext().TraceID() == sa.SpanContext().TraceID() ||
		shared.SpanContext().TraceID() == sb.SpanContext().TraceID() {
		t.Errorf("a shared batch must be a trace of its own, got parent %v", shared.Parent())
	}
	if l := shared.Links(); len(l) != 2 || l[0].SpanContext.SpanID() != sa.SpanContext().SpanID() ||
		l[1].SpanContext.SpanID() != sb.SpanContext().SpanID() {
		t.Errorf("a shared batch must link every member: %v", l)
	}
}

func TestLogHandlerStampsTheTrace(t *testing.T) {
	_, tp := recorder()
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "x")
	ctx, span := Tracer(tp).Start(context.Background(), "request")
	log.InfoContext(ctx, "inside")
	span.End()
	log.Info("outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var in, out map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &in)
	_ = json.Unmarshal([]byte(lines[1]), &out)
	if in["trace_id"] != span.SpanContext().TraceID().String() || in["span_id"] != span.SpanContext().SpanID().String() ||
		in["component"] != "x" {
		t.Errorf("line inside a span: %v", in)
	}
	if _, ok := out["trace_id"]; ok {
		t.Errorf("line outside any span: %v", out)
	}
}

func TestWarnHandlerSaysItOnceAMinute(t *testing.T) {
	var buf bytes.Buffer
	h := WarnHandler(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 100 {
		h.Handle(errors.New("connection refused"))
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("want one warning, got %q", buf.String())
	}
}

func TestHandoverIsATraceOfItsOwnLinkedToTheWriteBefore(t *testing.T) {
	rec, tp := recorder()
	if Handover(nil) != nil {
		t.Fatal("no handover without tracing")
	}
	before, span := Tracer(tp).Start(context.Background(), "process commands")
	ctx, ended := Handover(tp)(before, "CreateMemory")
	ended(errors.New("not yet"))
	span.End()
	turn := rec.Ended()[0]
	if turn.Name() != "turn CreateMemory" || turn.Parent().IsValid() || turn.SpanContext().TraceID() == span.SpanContext().TraceID() ||
		len(turn.Links()) != 1 || turn.Links()[0].SpanContext.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("turn span %q parent %v links %v", turn.Name(), turn.Parent(), turn.Links())
	}
	if trace.SpanContextFromContext(ctx).SpanID() != turn.SpanContext().SpanID() || turn.Status().Code.String() != "Error" {
		t.Fatalf("the write runs in %v, status %v", trace.SpanContextFromContext(ctx), turn.Status())
	}
}
