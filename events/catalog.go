package events

import (
	_ "embed"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"sync"
	"time"
)

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

// eventPayloads is the list of events, in the order of events.go. An event
// that is not here cannot be published: the outbox asks for its CloudEvent
// attributes and fails.
var eventPayloads = []Event{
	MemoryCreated{},
	MemoryCreationFailed{},
	MemoriesSearched{},
	MemoryUpdated{},
	MemoryUpdateFailed{},
	MemoryDeleted{},
	MemoryDeletionFailed{},
	MemoriesForgotten{},
	MemoriesForgettingFailed{},
	MemoriesListed{},
	MemoriesExported{},
	MemoryRead{},
	MemoryHistoryRead{},
}

// EventType describes one event for its subscribers.
type EventType struct {
	Name           string // the payload's name; its stream is Topics.Event(Name)
	CloudEventType string
	Description    string // the type's doc comment in events.go
	Payload        Event  // a zero value of the payload type
}

// EventTypes lists every event the service publishes. Documents for
// subscribers (the AsyncAPI document) are built from it.
func EventTypes() []EventType {
	docs := eventDocs()
	out := make([]EventType, 0, len(eventPayloads))
	for _, p := range eventPayloads {
		name := Name(p)
		ceType, _ := CloudEventType(name)
		out = append(out, EventType{Name: name, CloudEventType: ceType, Description: docs[name], Payload: p})
	}
	return out
}

// eventsSource is events.go itself: its doc comments are the descriptions, so
// the published documentation cannot drift from the code's.
//
//go:embed events.go
var eventsSource []byte

var eventDocs = sync.OnceValue(func() map[string]string {
	f, err := parser.ParseFile(token.NewFileSet(), "events.go", eventsSource, parser.ParseComments)
	if err != nil {
		panic("events: parse embedded events.go: " + err.Error())
	}
	docs := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, s := range g.Specs {
			ts := s.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil {
				doc = g.Doc
			}
			docs[ts.Name.Name] = describe(ts.Name.Name, doc.Text())
		}
	}
	return docs
})

// describe turns "MemoryCreated: an operation stored its memory. Topic: …" into
// "An operation stored its memory.": the name and the stream are said elsewhere.
func describe(name, doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, " Topic: "); i >= 0 {
		doc = doc[:i]
	}
	doc = strings.TrimPrefix(doc, name+": ")
	if doc == "" {
		return ""
	}
	return strings.ToUpper(doc[:1]) + doc[1:]
}
