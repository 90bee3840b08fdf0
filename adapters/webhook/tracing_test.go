package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// An attempt of a traced delivery is a client span in the delivery's trace,
// though the dispatcher that sends it runs in none; its traceparent goes to
// the receiver. An untraced delivery makes no span.
func TestAttemptsAreSentInTheirDeliverysTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s := NewSender(Config{AllowPrivate: true, Tracer: tp})

	const traceID, scheduledIn = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	traced := message(srv.URL)
	traced.Trace = "00-" + traceID + "-" + scheduledIn + "-01"
	for _, msg := range []webhook.Message{traced, message(srv.URL)} {
		if res := s.Send(context.Background(), msg); res.StatusCode != http.StatusNoContent {
			t.Fatalf("%+v", res)
		}
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want one for the traced delivery's attempt", len(spans))
	}
	attempt := spans[0]
	if attempt.SpanKind() != trace.SpanKindClient || attempt.SpanContext().TraceID().String() != traceID ||
		attempt.Parent().SpanID().String() != scheduledIn {
		t.Errorf("attempt span %s in trace %s under %s, want a client span under the delivery's", attempt.Name(),
			attempt.SpanContext().TraceID(), attempt.Parent().SpanID())
	}
	if len(got) != 2 || !strings.Contains(got[0], attempt.SpanContext().SpanID().String()) || got[1] != "" {
		t.Errorf("the receiver was told %q", got)
	}
}
