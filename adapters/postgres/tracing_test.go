package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// tracedTransactor is a transactor whose pool and transactions record spans.
func tracedTransactor(t *testing.T) (*postgres.Transactor, *pgxpool.Pool, *tracetest.SpanRecorder, trace.TracerProvider) {
	t.Helper()
	_, dbURL := pgtest.NewPool(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	pool, err := postgres.Connect(context.Background(), dbURL, 8, tp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	outbox := postgres.NewOutbox(events.Topics{Prefix: redistest.Prefix(t)}, events.Marshaler, nil)
	return postgres.NewTransactor(pool, outbox).WithTracer(tp), pool, rec, tp
}

// descendsFrom tells whether s has ancestor among spans.
func descendsFrom(s sdktrace.ReadOnlySpan, ancestor trace.SpanID, spans []sdktrace.ReadOnlySpan) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, x := range spans {
		byID[x.SpanContext().SpanID()] = x
	}
	for p := s.Parent(); p.IsValid(); {
		if p.SpanID() == ancestor {
			return true
		}
		parent, ok := byID[p.SpanID()]
		if !ok {
			return false
		}
		p = parent.Parent()
	}
	return false
}

// eventMetadata is the metadata of the outbox's events, as the relay would
// publish them.
func eventMetadata(t *testing.T, pool *pgxpool.Pool) []map[string]string {
	t.Helper()
	msgs, err := postgres.OutboxEvents(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Metadata
	}
	return out
}

// A transaction inside a trace is a span of it; its statements, pipelined in
// pgx batches, are spans under it; its event carries the trace, as its
// traceparent and as CloudEvents' extension; its audit entry keeps the trace
// id. Outside a trace, statements make no span.
func TestTransactionsJoinTheirRequestsTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx, pool, rec, tp := tracedTransactor(t)
	reqCtx, req := tracing.Tracer(tp).Start(ctx, "request")
	now := time.Now().UTC()
	entry := audit.Entry{AppID: "app-1", Action: audit.ActionSearch, Status: audit.StatusSucceeded, RequestID: "req-1",
		OccurredAt: now, CompletedAt: now, TraceID: events.TraceID(reqCtx)}
	if err := tx.RecordRead(reqCtx, entry, &events.MemoriesSearched{Version: 1, AppID: "app-1", RequestID: "req-1", OccurredAt: now}); err != nil {
		t.Fatal(err)
	}
	req.End()
	traceID := req.SpanContext().TraceID()

	spans := rec.Ended()
	var txSpan sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "postgres.transaction" {
			txSpan = s
		}
	}
	if txSpan == nil || txSpan.Parent().SpanID() != req.SpanContext().SpanID() {
		t.Fatalf("no transaction span under the request: %v", names(spans))
	}
	var insert bool
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if a.Key == "db.query.text" && strings.Contains(a.Value.AsString(), "INSERT INTO custom_gpt_audit_entries") &&
				descendsFrom(s, txSpan.SpanContext().SpanID(), spans) {
				insert = true
			}
		}
	}
	if !insert {
		t.Errorf("the pipelined insert is not a span under the transaction: %v", names(spans))
	}

	md := eventMetadata(t, pool)
	if len(md) != 1 || !strings.Contains(md[0][events.CETraceParent], traceID.String()) ||
		!strings.Contains(md[0][events.TraceParent], traceID.String()) {
		t.Errorf("event metadata %v lacks the request's trace", md)
	}
	entries, err := postgres.NewAuditRepository(pool).List(ctx, audit.Filter{Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].TraceID != traceID.String() {
		t.Errorf("audit entries %+v (%v), want trace id %s", entries, err, traceID)
	}

	before := len(rec.Ended())
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if after := len(rec.Ended()); after != before {
		t.Errorf("a statement outside any trace made %d spans", after-before)
	}
}

// A group commit of many requests is a trace of its own, linked to each
// request it carried; each event still carries its own request's trace.
func TestGroupCommitLinksItsRequests(t *testing.T) {
	t.Parallel()
	tx, pool, rec, tp := tracedTransactor(t)
	g := postgres.NewTxGroup(tx, postgres.TxGroupConfig{Writers: 1})
	const reads = 40
	requests := make([]trace.SpanContext, reads)
	for _, err := range concurrently(reads, func(i int) error {
		ctx, span := tracing.Tracer(tp).Start(context.Background(), "request")
		defer span.End()
		requests[i] = span.SpanContext()
		e := readEntry(i)
		e.TraceID = events.TraceID(ctx)
		return g.RecordRead(ctx, e, &events.MemoriesSearched{Version: 1, RequestID: fmt.Sprintf("req-%d", i)})
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g.Batches() == 0 {
		t.Skip("no reads were grouped this time")
	}
	linked := map[trace.SpanID]bool{}
	spans := rec.Ended()
	for _, s := range spans {
		if s.Name() != "postgres.group_commit" {
			continue
		}
		if s.Parent().IsValid() || len(s.Links()) < 2 {
			t.Errorf("a group commit must be a root linked to its requests: parent %v, %d links", s.Parent(), len(s.Links()))
		}
		for _, l := range s.Links() {
			linked[l.SpanContext.SpanID()] = true
		}
	}
	alone := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.Name() == "postgres.transaction" {
			alone[s.Parent().SpanID()] = true
		}
	}
	for i, r := range requests {
		if !linked[r.SpanID()] && !alone[r.SpanID()] {
			t.Errorf("request %d is in no transaction's trace nor linked from a group commit", i)
		}
	}
	traceOf := map[string]string{}
	for i, r := range requests {
		traceOf[fmt.Sprintf("req-%d", i)] = r.TraceID().String()
	}
	rows, err := pool.Query(context.Background(), `SELECT request_id, trace_id FROM custom_gpt_audit_entries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, traceID string
		if err := rows.Scan(&id, &traceID); err != nil {
			t.Fatal(err)
		}
		if traceOf[id] != traceID {
			t.Errorf("entry %s has trace %q, want its request's %q", id, traceID, traceOf[id])
		}
	}
	var ownTrace int
	for _, md := range eventMetadata(t, pool) {
		for _, r := range requests {
			if strings.Contains(md[events.CETraceParent], r.TraceID().String()) {
				ownTrace++
			}
		}
	}
	if ownTrace != reads {
		t.Errorf("%d of %d events carry their request's trace", ownTrace, reads)
	}
}

// A delivery keeps the trace it was scheduled in, and each attempt is sent in it.
func TestWebhookDeliveryKeepsItsTrace(t *testing.T) {
	t.Parallel()
	repo, e, now := newWebhookFixture(t)
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	body, _ := webhook.Payload("custom_gpt.memory.created", now, json.RawMessage(`{"app_id":"app-1"}`))
	d, err := webhook.NewDelivery("d-1", e, "ev-1", "custom_gpt.memory.created", body, parent, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.AddDelivery(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	c, err := repo.ClaimDue(context.Background(), now, time.Minute)
	if err != nil || c == nil {
		t.Fatalf("claim: %v %v", c, err)
	}
	if c.Delivery.Trace() != parent || c.Delivery.Message(c.Endpoint, now).Trace != parent {
		t.Fatalf("the delivery came back with trace %q", c.Delivery.Trace())
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
