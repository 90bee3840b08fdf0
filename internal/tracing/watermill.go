package tracing

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Spans of messages follow OpenTelemetry's messaging conventions: named
// "<operation> <stream>" (streams are few, ids are left to attributes).
func messagingAttrs(operation, stream, id string) trace.SpanStartOption {
	return trace.WithAttributes(
		attribute.String("messaging.system", "redis"),
		attribute.String("messaging.operation.type", operation),
		attribute.String("messaging.destination.name", stream),
		attribute.String("messaging.message.id", id),
	)
}

// Producer starts the span of sending a message on stream: a child of ctx's
// span, whose context the message then carries (Inject).
func Producer(tracer trace.Tracer, ctx context.Context, stream string, msg *message.Message) (context.Context, trace.Span) {
	ctx, span := tracer.Start(ctx, "send "+stream, trace.WithSpanKind(trace.SpanKindProducer), messagingAttrs("send", stream, msg.UUID))
	Inject(ctx, msg.Metadata)
	return ctx, span
}

// Consume makes a router handler's work on each message a consumer span,
// the child of the span that sent it (the message's traceparent), or the
// first of a trace when it carries none. Handlers see it in msg.Context(),
// so what they do (the Memory Bank's calls, the transactions, the events
// they publish) is part of the message's trace.
func Consume(tp trace.TracerProvider) message.HandlerMiddleware {
	tracer := Tracer(tp)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			stream := message.SubscribeTopicFromCtx(msg.Context())
			ctx, span := tracer.Start(Extract(msg.Context(), msg.Metadata), "process "+stream,
				trace.WithSpanKind(trace.SpanKindConsumer), messagingAttrs("process", stream, msg.UUID),
				trace.WithAttributes(attribute.String("messaging.consumer.group.name", message.HandlerNameFromCtx(msg.Context()))))
			msg.SetContext(ctx)
			out, err := h(msg)
			End(span, err)
			return out, err
		}
	}
}

// Relay is pub for a relay that passes on messages other processes made
// (the outbox's forwarder): each message that carries a trace is sent in a
// producer span that continues it, and carries that span on as its
// traceparent. A message without one is passed on as it is: its trace, if
// any, was never started, and a relay's span alone would be noise.
func Relay(pub message.Publisher, tp trace.TracerProvider) message.Publisher {
	if !On(tp) {
		return pub
	}
	return relay{Publisher: pub, tracer: Tracer(tp)}
}

type relay struct {
	message.Publisher
	tracer trace.Tracer
}

func (r relay) Publish(stream string, msgs ...*message.Message) error {
	spans := make([]trace.Span, 0, len(msgs))
	for _, msg := range msgs {
		parent := Extract(msg.Context(), msg.Metadata)
		if !trace.SpanContextFromContext(parent).IsValid() {
			continue
		}
		ctx, span := r.tracer.Start(parent, "relay "+stream, trace.WithSpanKind(trace.SpanKindProducer),
			messagingAttrs("send", stream, msg.UUID))
		Inject(ctx, msg.Metadata)
		msg.SetContext(ctx) // Watermill's Redis publisher sends with it: its XADD is the relay's child
		spans = append(spans, span)
	}
	err := r.Publisher.Publish(stream, msgs...)
	for _, span := range spans {
		End(span, err)
	}
	return err
}
