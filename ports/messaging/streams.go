package messaging

import "github.com/custom-gpt-adapter/custom-gpt-adapter/events"

// Consumed is a stream the worker reads and the consumer group it reads it in.
type Consumed struct{ Stream, Group string }

// ConsumedStreams lists every stream the worker's routers read, each with its
// consumer group: what an operator watches for lag.
func ConsumedStreams(t events.Topics) []Consumed {
	var out []Consumed
	for _, name := range events.CommandNames() {
		out = append(out, Consumed{Stream: t.Command(name), Group: t.ConsumerGroup(name)})
	}
	out = append(out, Consumed{Stream: t.Poison(), Group: t.ConsumerGroup(poisonHandlerName)})
	for _, name := range webhookEvents() {
		out = append(out, Consumed{Stream: t.Event(name), Group: t.ConsumerGroup(scheduleWebhooksHandler)})
	}
	for _, name := range forgottenEvents() {
		out = append(out, Consumed{Stream: t.Event(name), Group: t.ConsumerGroup(purgeForgottenHandler)})
	}
	return out
}

// webhookEvents are the events sent to webhooks: the outcomes of every kind
// of operation. Reads are left out: they are frequent and say nothing an
// application does not already know.
func webhookEvents() []string { return events.Outcomes() }

// forgottenEvents are the events after which copies of forgotten text are purged.
func forgottenEvents() []string {
	return []string{events.Name(events.MemoriesForgotten{}), events.Name(events.MemoryDeleted{})}
}
