package events

import (
	"context"
	"reflect"
)

// Topics derives every stream name from one prefix, so two deployments or two
// test runs can share a Redis without seeing each other's messages.
type Topics struct{ Prefix string }

// Command is the stream of a command: <prefix>.commands.<Name>.
func (t Topics) Command(name string) string { return t.Prefix + ".commands." + name }

// Event is the stream of an event: <prefix>.events.<Name>.
func (t Topics) Event(name string) string { return t.Prefix + ".events." + name }

// Poison is the stream where commands that exhausted their retries are parked.
func (t Topics) Poison() string { return t.Prefix + ".poison" }

// Outbox is the SQL topic whose rows the forwarder relays to Redis.
func (t Topics) Outbox() string { return "outbox" }

// ConsumerGroup names a handler's Redis consumer group; handler names are stable.
func (t Topics) ConsumerGroup(handler string) string { return t.Prefix + "." + handler }

// Name is the stable name of a payload: its Go type name without the package.
func Name(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

type correlationKey struct{}

// WithCorrelationID carries a correlation id through a context.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the context's correlation id, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
