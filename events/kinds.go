package events

import (
	"reflect"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// Kind is one kind of operation: a write the API accepts at once and a
// worker runs from its command, ending it with one of two events. The
// registries of kinds derive from the table below: the commands a worker
// consumes and can park (NewCommand, CommandNames), the failure event of an
// operation, the CloudEvent types, the events sent to webhooks and the
// AsyncAPI document. Only the use cases are named by hand, where they are
// wired and routed, and tests hold those lists to the table;
// docs/architecture.md says what a new kind takes.
type Kind struct {
	Name    operation.Kind // as its operation records it
	Action  audit.Action   // as its audit entry records it
	Command Command        // a zero value of its command
	// Succeeded and Failed are the events that end it. Their CloudEvent
	// types are also the types its webhooks are sent as.
	Succeeded, Failed EventType
	Scope             string // the OAuth scope a caller needs to ask for it
	// Consequential kinds change what is already stored: a GPT confirms
	// with its user before it calls them.
	Consequential bool
	// Additive kinds only add to a scope: an attempt reads nothing that the
	// end of an earlier write of the same kind changes, so a worker may run
	// a run of them one after another and end them all in one transaction.
	Additive bool
}

var kinds = []Kind{
	{
		Name: operation.KindCreateMemory, Action: audit.ActionCreateMemory, Command: CreateMemory{}, Scope: oauth.ScopeWrite,
		Additive:  true,
		Succeeded: event(MemoryCreated{}, "custom_gpt.memory.created", "An operation stored its memory."),
		Failed: event(MemoryCreationFailed{}, "custom_gpt.memory.creation_failed",
			"An operation ended without storing its memory."),
	},
	{
		Name: operation.KindUpdateMemory, Action: audit.ActionUpdateMemory, Command: UpdateMemory{}, Scope: oauth.ScopeWrite,
		Consequential: true,
		Succeeded:     event(MemoryUpdated{}, "custom_gpt.memory.updated", "An operation replaced the content of a memory."),
		Failed: event(MemoryUpdateFailed{}, "custom_gpt.memory.update_failed",
			"An update operation ended without changing its memory."),
	},
	{
		Name: operation.KindDeleteMemory, Action: audit.ActionDeleteMemory, Command: DeleteMemory{}, Scope: oauth.ScopeWrite,
		Consequential: true,
		Succeeded: event(MemoryDeleted{}, "custom_gpt.memory.deleted",
			"An operation deleted a memory, or found it already gone on a retry of its own."),
		Failed: event(MemoryDeletionFailed{}, "custom_gpt.memory.deletion_failed",
			"A delete operation ended without deleting its memory."),
	},
	{
		Name: operation.KindForgetMemories, Action: audit.ActionForgetMemories, Command: ForgetMemories{}, Scope: oauth.ScopeWrite,
		Consequential: true,
		Succeeded: event(MemoriesForgotten{}, "custom_gpt.memories.forgotten",
			"An operation deleted every memory of a scope. Removed is how many the attempt that finished found; "+
				"a retry after an attempt that deleted them but did not commit finds fewer."),
		Failed: event(MemoriesForgettingFailed{}, "custom_gpt.memories.forgetting_failed",
			"A forget operation ended without deleting the scope's memories."),
	},
}

// Kinds lists every kind of operation.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// KindOf returns the kind named name.
func KindOf(name operation.Kind) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// KindOfCommand returns the kind whose command is named name.
func KindOfCommand(name string) (Kind, bool) {
	for _, k := range kinds {
		if Name(k.Command) == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Outcomes lists the events that end operations, the successes and
// failures of every kind: the events sent to webhooks.
func Outcomes() []string {
	var names []string
	for _, k := range kinds {
		names = append(names, k.Succeeded.Name, k.Failed.Name)
	}
	return names
}

// Failure is what the failure event of an operation says of it.
type Failure struct {
	OperationID, AppID, EndUser string
	MemoryID                    string // the memory it was about, if one
	Code, Detail                string
	RequestID                   string
	OccurredAt                  time.Time
}

// FailedEvent is the failure event of k for f. Every failure event holds
// Failure's fields under the same names, or some of them, so it is filled by
// name: the table needs no constructor per kind (TestFailedEventsCarryTheFailure
// checks that each field arrives).
func (k Kind) FailedEvent(f Failure) Event {
	ev := reflect.New(reflect.TypeOf(k.Failed.Payload)).Elem()
	ev.FieldByName("Version").SetInt(Version)
	from := reflect.ValueOf(f)
	for i := range from.NumField() {
		if to := ev.FieldByName(from.Type().Field(i).Name); to.IsValid() {
			to.Set(from.Field(i))
		}
	}
	return ev.Addr().Interface().(Event)
}
