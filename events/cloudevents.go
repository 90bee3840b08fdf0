package events

// Every event message carries the CloudEvents 1.0 context attributes in its
// metadata, under the "ce_" names of CloudEvents' Kafka and AMQP bindings, so a
// subscriber can rebuild a CloudEvent with standard tooling. The payload is the
// event's data (binary content mode). The message UUID is the CloudEvent id:
// a redelivered message keeps it, so consumers can deduplicate on it.
const (
	CESpecVersion     = "ce_specversion"
	CEID              = "ce_id"
	CESource          = "ce_source"
	CEType            = "ce_type"
	CETime            = "ce_time"
	CESubject         = "ce_subject"
	CEDataContentType = "ce_datacontenttype"
	// CETraceParent is CloudEvents' distributed tracing extension: the W3C
	// traceparent of the span the event was made in, set once and never
	// changed, so every consumer can find where the event came from. The
	// message's own "traceparent" (TraceParent), beside it, is the hop's: it
	// names the span that last passed the message on.
	CETraceParent = "ce_traceparent"
	// TraceParent is the W3C traceparent of the span that last sent the
	// message: a consumer's span is its child. Commands carry it too.
	TraceParent = "traceparent"
)

// CloudEventType is the CloudEvent type of the event named name, and whether
// name is an event at all. Webhooks send the same type.
func CloudEventType(name string) (string, bool) {
	t, ok := cloudEventTypes[name]
	return t, ok
}

var cloudEventTypes = func() map[string]string {
	types := map[string]string{}
	for _, et := range EventTypes() {
		types[et.Name] = et.CloudEventType
	}
	return types
}()
