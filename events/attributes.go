package events

import (
	"fmt"
	"time"
)

// CloudEvents attribute values common to every event.
const (
	CloudEventsSpecVersion = "1.0"
	DataContentType        = "application/json"
)

// Source is the CloudEvent source of every event of a deployment:
// urn:custom-gpt-adapter:<stream prefix>. The stream prefix, not the public
// URL, names the deployment: API and worker processes publish events and must
// agree on the source, and they necessarily share the prefix (it names the
// streams they talk through), while a worker needs no public URL and may have
// none set. Two deployments that share a Redis differ in prefix, so (source,
// id) stays unique, as CloudEvents requires.
func (t Topics) Source() string { return "urn:custom-gpt-adapter:" + t.Prefix }

// CloudEventAttributes are the ce_* metadata of event, named name, published
// as the message whose UUID is id (the CloudEvent id). It fails for a payload
// that is not a registered event, so an event cannot be published undescribed.
func CloudEventAttributes(id, source, name string, event any) (map[string]string, error) {
	ev, ok := event.(Event)
	if !ok {
		return nil, fmt.Errorf("%s is not an event: it lacks CloudEventSubject and EventTime", name)
	}
	ceType, ok := CloudEventType(name)
	if !ok {
		return nil, fmt.Errorf("event %s has no CloudEvent type", name)
	}
	attrs := map[string]string{
		CESpecVersion:     CloudEventsSpecVersion,
		CEID:              id,
		CESource:          source,
		CEType:            ceType,
		CEDataContentType: DataContentType,
	}
	// Both are optional in CloudEvents: left out rather than sent empty or made up.
	if t := ev.EventTime(); !t.IsZero() {
		attrs[CETime] = t.Format(time.RFC3339Nano) // as the payload's occurred_at
	}
	if s := ev.CloudEventSubject(); s != "" {
		attrs[CESubject] = s
	}
	return attrs, nil
}

// Subjects name what a subscriber would look up: an operation's outcome is
// about the operation (GET /api/v1/operations/{id}), a read of one memory about
// that memory (/api/v1/memories/{id}), and a search or list about the
// application whose memories were read.
func operationSubject(id string) string { return subject("operations/", id) }
func memorySubject(id string) string    { return subject("memories/", id) }
func appSubject(id string) string       { return subject("apps/", id) }

func subject(kind, id string) string {
	if id == "" {
		return ""
	}
	return kind + id
}

func (e MemoryCreated) CloudEventSubject() string            { return operationSubject(e.OperationID) }
func (e MemoryCreationFailed) CloudEventSubject() string     { return operationSubject(e.OperationID) }
func (e MemoryUpdated) CloudEventSubject() string            { return operationSubject(e.OperationID) }
func (e MemoryUpdateFailed) CloudEventSubject() string       { return operationSubject(e.OperationID) }
func (e MemoryDeleted) CloudEventSubject() string            { return operationSubject(e.OperationID) }
func (e MemoryDeletionFailed) CloudEventSubject() string     { return operationSubject(e.OperationID) }
func (e MemoriesForgotten) CloudEventSubject() string        { return operationSubject(e.OperationID) }
func (e MemoriesForgettingFailed) CloudEventSubject() string { return operationSubject(e.OperationID) }
func (e MemoriesSearched) CloudEventSubject() string         { return appSubject(e.AppID) }
func (e MemoriesListed) CloudEventSubject() string           { return appSubject(e.AppID) }
func (e MemoriesExported) CloudEventSubject() string         { return appSubject(e.AppID) }
func (e MemoryRead) CloudEventSubject() string               { return memorySubject(e.MemoryID) }
func (e MemoryHistoryRead) CloudEventSubject() string        { return memorySubject(e.MemoryID) }

func (e MemoryCreated) EventTime() time.Time            { return e.OccurredAt }
func (e MemoryCreationFailed) EventTime() time.Time     { return e.OccurredAt }
func (e MemoryUpdated) EventTime() time.Time            { return e.OccurredAt }
func (e MemoryUpdateFailed) EventTime() time.Time       { return e.OccurredAt }
func (e MemoryDeleted) EventTime() time.Time            { return e.OccurredAt }
func (e MemoryDeletionFailed) EventTime() time.Time     { return e.OccurredAt }
func (e MemoriesForgotten) EventTime() time.Time        { return e.OccurredAt }
func (e MemoriesForgettingFailed) EventTime() time.Time { return e.OccurredAt }
func (e MemoriesSearched) EventTime() time.Time         { return e.OccurredAt }
func (e MemoriesListed) EventTime() time.Time           { return e.OccurredAt }
func (e MemoriesExported) EventTime() time.Time         { return e.OccurredAt }
func (e MemoryRead) EventTime() time.Time               { return e.OccurredAt }
func (e MemoryHistoryRead) EventTime() time.Time        { return e.OccurredAt }
