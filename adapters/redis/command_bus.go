package redis

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// CommandBus queues commands on their streams and says which entry each one
// became, so the service can tell later whether it is still on its way. It
// writes what Watermill's command bus writes (the same marshaler, the
// correlation id in the metadata), as one uncapped XADD.
type CommandBus struct {
	pub       *CommandPublisher
	topics    events.Topics
	marshaler cqrs.CommandEventMarshaler
	tracer    trace.Tracer // nil: no spans (WithTracer)
}

func NewCommandBus(pub *CommandPublisher, topics events.Topics, marshaler cqrs.CommandEventMarshaler) *CommandBus {
	return &CommandBus{pub: pub, topics: topics, marshaler: marshaler}
}

// WithTracer makes each command's sending a producer span of tp, the child
// of the span it was given in (the request that accepted it), whose context
// the command carries as its traceparent to the worker that runs it.
func (b *CommandBus) WithTracer(tp trace.TracerProvider) *CommandBus {
	if tracing.On(tp) {
		b.tracer = tracing.Tracer(tp)
	}
	return b
}

// Pending is a command to send with the context it was given in, for its
// correlation id.
type Pending struct {
	Ctx context.Context
	Cmd any
}

// SendAll queues every command in one round trip (one pipeline) and returns each one's
// stream entry id or error.
func (b *CommandBus) SendAll(ctx context.Context, cmds []Pending) ([]string, []error) {
	out := make([]Outgoing, 0, len(cmds))
	at := make([]int, 0, len(cmds)) // index in cmds of each message in out
	ids, errs := make([]string, len(cmds)), make([]error, len(cmds))
	var sending []context.Context // each message's producer span, when traced
	for i, c := range cmds {
		msg, err := b.message(c.Ctx, c.Cmd)
		if err != nil {
			errs[i] = err
			continue
		}
		stream := b.topics.Command(b.marshaler.Name(c.Cmd))
		if b.tracer != nil {
			sent, _ := tracing.Producer(b.tracer, c.Ctx, stream, msg)
			sending = append(sending, sent)
		}
		out = append(out, Outgoing{Stream: stream, Msg: msg})
		at = append(at, i)
	}
	pipeCtx, endPipe := b.pipeline(ctx, sending)
	sent, sendErrs := b.pub.PublishAll(pipeCtx, out)
	endPipe()
	for j, i := range at {
		ids[i], errs[i] = sent[j], sendErrs[j]
		if sending != nil {
			tracing.End(trace.SpanFromContext(sending[j]), sendErrs[j])
		}
	}
	return ids, errs
}

// pipeline is the context of the one round trip that sends every message:
// a message's own producer span when it goes alone, else a span of the
// batch linked to each (tracing.StartBatch), so that the XADDs are in no
// request's trace but each request leads to them.
func (b *CommandBus) pipeline(ctx context.Context, sending []context.Context) (context.Context, func()) {
	switch len(sending) {
	case 0:
		return ctx, func() {}
	case 1:
		return trace.ContextWithSpan(ctx, trace.SpanFromContext(sending[0])), func() {}
	}
	ctx, span := tracing.StartBatch(ctx, b.tracer, "send commands", sending)
	return ctx, func() { span.End() }
}

// message is cmd as Watermill's command bus would write it.
func (b *CommandBus) message(ctx context.Context, cmd any) (*message.Message, error) {
	msg, err := b.marshaler.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", events.Name(cmd), err)
	}
	if msg.UUID == "" {
		msg.UUID = watermill.NewUUID()
	}
	if id := events.CorrelationID(ctx); id != "" {
		middleware.SetCorrelationID(id, msg)
	}
	return msg, nil
}
