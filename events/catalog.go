package events

import "time"

// Event is a payload published on an event stream. Every event says what it is
// about and when it happened, so the publisher can set its CloudEvent subject
// and time without knowing the type.
type Event interface {
	// CloudEventSubject is what the event is about, relative to its source:
	// operations/<id>, memories/<id> or apps/<id> (see attributes.go).
	CloudEventSubject() string
	// EventTime is when it happened: the payload's occurred_at.
	EventTime() time.Time
}

// EventType describes one event for its subscribers.
type EventType struct {
	Name           string // the payload's name; its stream is Topics.Event(Name)
	CloudEventType string // stable, and part of the public contract
	Description    string // what it tells a subscriber, for the AsyncAPI document
	Payload        Event  // a zero value of the payload type
}

func event(payload Event, cloudEventType, description string) EventType {
	return EventType{Name: Name(payload), CloudEventType: cloudEventType, Description: description, Payload: payload}
}

// reads are the events of the synchronous reads: they carry counts, never
// contents. The events of operations are in the table of kinds.go.
var reads = []EventType{
	event(MemoriesSearched{}, "custom_gpt.memories.searched", "An application searched its memories. "+
		"The query text is not included: it can hold personal data, and subscribers need only the fact."),
	event(MemoriesListed{}, "custom_gpt.memories.listed",
		"An application read a page of its memories. Like MemoriesSearched it carries counts, never contents."),
	event(MemoriesExported{}, "custom_gpt.memories.exported", "An application, or an operator for an end user, "+
		"began an export of every memory of one memory space with its history. Like the other reads it carries no contents."),
	event(MemoryRead{}, "custom_gpt.memory.read",
		"An application read one memory; Succeeded is false when it was missing or another scope's."),
	event(MemoryHistoryRead{}, "custom_gpt.memory.history_read", "An application read the history of one memory."),
}

// EventTypes lists every event the service publishes: the outcomes of every
// kind of operation, then the reads. An event that is not here cannot be
// published: the outbox asks for its CloudEvent attributes and fails.
func EventTypes() []EventType {
	out := make([]EventType, 0, 2*len(kinds)+len(reads))
	for _, k := range kinds {
		out = append(out, k.Succeeded, k.Failed)
	}
	return append(out, reads...)
}
