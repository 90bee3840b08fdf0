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
)

// cloudEventTypes maps each event name to its CloudEvent type. Types are
// stable and part of the public contract: webhooks send the same type.
var cloudEventTypes = map[string]string{
	Name(MemoryCreated{}):            "custom_gpt.memory.created",
	Name(MemoryCreationFailed{}):     "custom_gpt.memory.creation_failed",
	Name(MemoryUpdated{}):            "custom_gpt.memory.updated",
	Name(MemoryUpdateFailed{}):       "custom_gpt.memory.update_failed",
	Name(MemoryDeleted{}):            "custom_gpt.memory.deleted",
	Name(MemoryDeletionFailed{}):     "custom_gpt.memory.deletion_failed",
	Name(MemoriesForgotten{}):        "custom_gpt.memories.forgotten",
	Name(MemoriesForgettingFailed{}): "custom_gpt.memories.forgetting_failed",
	Name(MemoriesSearched{}):         "custom_gpt.memories.searched",
	Name(MemoriesListed{}):           "custom_gpt.memories.listed",
	Name(MemoriesExported{}):         "custom_gpt.memories.exported",
	Name(MemoryRead{}):               "custom_gpt.memory.read",
	Name(MemoryHistoryRead{}):        "custom_gpt.memory.history_read",
}

// CloudEventType is the CloudEvent type of the event named name, and whether
// name is an event at all.
func CloudEventType(name string) (string, bool) {
	t, ok := cloudEventTypes[name]
	return t, ok
}
