package tracing

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"
)

// A message sent in a producer span is handled in a consumer span, its
// child; one that carries no trace starts its own.
func TestConsumeContinuesTheProducer(t *testing.T) {
	rec, tp := recorder()
	tracer := Tracer(tp)
	req, reqSpan := tracer.Start(context.Background(), "request")
	msg := message.NewMessage("m-1", nil)
	_, producer := Producer(tracer, req, "p.commands.CreateMemory", msg)
	producer.End()
	reqSpan.End()

	var seen trace.SpanContext
	handler := Consume(tp)(func(m *message.Message) ([]*message.Message, error) {
		seen = trace.SpanContextFromContext(m.Context())
		return nil, errors.New("failed")
	})
	if _, err := handler(msg); err == nil {
		t.Fatal("the handler's error was lost")
	}
	if _, err := handler(message.NewMessage("m-2", nil)); err == nil {
		t.Fatal("the handler's error was lost")
	}
	ended := rec.Ended()
	consumer, orphan := ended[2], ended[3]
	if consumer.SpanKind() != trace.SpanKindConsumer || consumer.Parent().SpanID() != producer.SpanContext().SpanID() ||
		consumer.SpanContext().TraceID() != reqSpan.SpanContext().TraceID() {
		t.Errorf("consumer span %v has parent %v, want the producer %v", consumer.Name(), consumer.Parent(), producer.SpanContext())
	}
	if consumer.Status().Code.String() != "Error" {
		t.Errorf("a failed handling is not marked failed: %v", consumer.Status())
	}
	if orphan.Parent().IsValid() || !seen.Equal(orphan.SpanContext()) {
		t.Errorf("a message without a trace starts one, seen by its handler: parent %v", orphan.Parent())
	}
}

type publisherFunc func(topic string, msgs ...*message.Message) error

func (f publisherFunc) Publish(topic string, msgs ...*message.Message) error {
	return f(topic, msgs...)
}
func (publisherFunc) Close() error { return nil }

// The relay sends a traced message in a span that continues its trace and
// becomes its traceparent; an untraced one passes as it is.
func TestRelayContinuesTheEventsTrace(t *testing.T) {
	rec, tp := recorder()
	made, madeSpan := Tracer(tp).Start(context.Background(), "completion")
	madeSpan.End()
	traced := message.NewMessage("e-1", nil)
	Inject(made, traced.Metadata)
	plain := message.NewMessage("e-2", nil)

	var sentIn []trace.SpanContext
	pub := Relay(publisherFunc(func(_ string, msgs ...*message.Message) error {
		for _, m := range msgs {
			sentIn = append(sentIn, trace.SpanContextFromContext(m.Context()))
		}
		return nil
	}), tp)
	if err := pub.Publish("p.events.MemoryCreated", traced, plain); err != nil {
		t.Fatal(err)
	}
	ended := rec.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want the completion's and one relay", len(ended))
	}
	relay := ended[1]
	if relay.Parent().SpanID() != madeSpan.SpanContext().SpanID() || relay.SpanKind() != trace.SpanKindProducer {
		t.Errorf("relay span's parent %v, want the event's span", relay.Parent())
	}
	if sentIn[0].SpanID() != relay.SpanContext().SpanID() || sentIn[1].IsValid() {
		t.Errorf("messages sent in %v", sentIn)
	}
	if got := trace.SpanContextFromContext(Extract(context.Background(), traced.Metadata)); got.SpanID() != relay.SpanContext().SpanID() {
		t.Errorf("the relayed message's traceparent names %v, want the relay", got.SpanID())
	}
	if len(plain.Metadata) != 0 {
		t.Errorf("an untraced message was given %v", plain.Metadata)
	}
}

// An HTTP client's calls inside a trace are its client spans and carry its
// traceparent to the server; calls outside one make no span.
func TestClientSpans(t *testing.T) {
	rec, tp := recorder()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("traceparent"))
	}))
	defer srv.Close()
	c := Client(srv.Client(), tp, "memory-bank")
	if c == srv.Client() || Client(srv.Client(), nil, "x") != srv.Client() {
		t.Fatal("Client must wrap only when tracing is on")
	}
	ctx, span := Tracer(tp).Start(context.Background(), "worker")
	for _, ctx := range []context.Context{ctx, context.Background()} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/memories", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	span.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "POST memory-bank" || ended[0].SpanKind() != trace.SpanKindClient ||
		ended[0].Parent().SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("spans %v", ended)
	}
	if len(got) != 2 || got[0] == "" || got[1] != "" {
		t.Fatalf("traceparent headers %q: want one, inside the trace only", got)
	}
	if sc := trace.SpanContextFromContext(WithTraceParent(context.Background(), got[0])); sc.SpanID() != ended[0].SpanContext().SpanID() {
		t.Errorf("the server was told %q, want the client span", got[0])
	}
}
