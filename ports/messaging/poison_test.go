package messaging

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Every command the worker consumes can be poisoned, so the poison router must
// be able to end the operation of each.
func TestEveryCommandCanBeFailedFromThePoisonStream(t *testing.T) {
	t.Parallel()

	handlers := commandHandlers(app.Application{}, "1")
	if len(handlers) != len(poisoned) {
		t.Errorf("%d command handlers, %d poison decoders", len(handlers), len(poisoned))
	}
	for _, h := range handlers {
		if _, ok := poisoned[events.Marshaler.Name(h.NewCommand())]; !ok {
			t.Errorf("no poison decoder for %s", events.Marshaler.Name(h.NewCommand()))
		}
	}
}

func TestPoisonedCommandsDecodeToFailOperation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		cmd  any
		want command.FailOperation
	}{
		{&events.CreateMemory{Version: 1, OperationID: "op-1", RequestID: "r-1", Content: "x"},
			command.FailOperation{OperationID: "op-1", RequestID: "r-1"}},
		{&events.UpdateMemory{Version: 1, OperationID: "op-2", RequestID: "r-2", MemoryID: "m-2", Content: "x"},
			command.FailOperation{OperationID: "op-2", RequestID: "r-2", MemoryID: "m-2"}},
		{&events.DeleteMemory{Version: 1, OperationID: "op-3", RequestID: "r-3", MemoryID: "m-3"},
			command.FailOperation{OperationID: "op-3", RequestID: "r-3", MemoryID: "m-3"}},
		{&events.ForgetMemories{Version: 1, OperationID: "op-4", RequestID: "r-4"},
			command.FailOperation{OperationID: "op-4", RequestID: "r-4"}},
	}
	for _, tt := range tests {
		msg, err := events.Marshaler.Marshal(tt.cmd)
		if err != nil {
			t.Fatal(err)
		}
		name := events.Marshaler.NameFromMessage(msg)
		if name != events.Name(tt.cmd) {
			t.Errorf("message named %q, want %q", name, events.Name(tt.cmd))
		}
		got, err := poisoned[name](msg)
		if err != nil || got != tt.want {
			t.Errorf("%s decoded to %+v, %v; want %+v", name, got, err, tt.want)
		}
	}
}
