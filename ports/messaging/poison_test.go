package messaging

import (
	"slices"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// The worker runs every kind of operation, each from its own stream, and
// nothing else.
func TestEveryKindIsRun(t *testing.T) {
	t.Parallel()

	m, err := newOperationMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	for _, h := range commandHandlers(app.Application{}.Commands, "1", m) {
		name := events.Name(h.NewCommand())
		if h.HandlerName() != name+".1" {
			t.Errorf("handler %q runs %s", h.HandlerName(), name)
		}
		routed = append(routed, name)
	}
	slices.Sort(routed)
	kinds := events.CommandNames()
	slices.Sort(kinds)
	if !slices.Equal(routed, kinds) {
		t.Errorf("the worker runs %v, the kinds are %v", routed, kinds)
	}
}

// Every command the worker consumes can be poisoned, so the poison router
// must be able to end the operation of each.
func TestPoisonedCommandsDecodeToFailOperation(t *testing.T) {
	t.Parallel()

	draft, err := memory.NewDraft("x", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	header := func(op string) events.Header {
		return events.Header{Version: 1, OperationID: op, RequestID: "r-" + op}
	}
	tests := []struct {
		cmd  events.Command
		want command.FailOperation
	}{
		{&events.CreateMemory{Header: header("op-1"), Draft: draft},
			command.FailOperation{OperationID: "op-1", RequestID: "r-op-1"}},
		{&events.UpdateMemory{Header: header("op-2"), MemoryID: "m-2", Content: "x"},
			command.FailOperation{OperationID: "op-2", RequestID: "r-op-2", MemoryID: "m-2"}},
		{&events.DeleteMemory{Header: header("op-3"), MemoryID: "m-3"},
			command.FailOperation{OperationID: "op-3", RequestID: "r-op-3", MemoryID: "m-3"}},
		{&events.ForgetMemories{Header: header("op-4")},
			command.FailOperation{OperationID: "op-4", RequestID: "r-op-4"}},
	}
	if len(tests) != len(events.Kinds()) {
		t.Fatalf("%d cases for %d kinds", len(tests), len(events.Kinds()))
	}
	for _, tt := range tests {
		msg, err := events.Marshaler.Marshal(tt.cmd)
		if err != nil {
			t.Fatal(err)
		}
		name := events.Marshaler.NameFromMessage(msg)
		got, ok, err := failureOfPoisoned(msg, name)
		if !ok || err != nil || got != tt.want {
			t.Errorf("%s decoded to %+v, %v, %v; want %+v", name, got, ok, err, tt.want)
		}
	}
	if _, ok, _ := failureOfPoisoned(nil, "MemoryCreated"); ok {
		t.Error("an event was taken for a poisoned command")
	}
}
