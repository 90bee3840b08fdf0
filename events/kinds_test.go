package events_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Every registry of kinds answers for every kind of the table, and for
// nothing else.
func TestEveryKindIsRegistered(t *testing.T) {
	t.Parallel()
	kinds := events.Kinds()
	if len(kinds) != 4 {
		t.Fatalf("%d kinds", len(kinds))
	}
	if names := events.CommandNames(); len(names) != len(kinds) {
		t.Errorf("command names %v", names)
	}
	outcomes := events.Outcomes()
	for _, k := range kinds {
		if got, ok := events.KindOf(k.Name); !ok || got.Name != k.Name {
			t.Errorf("KindOf(%s) = %v, %v", k.Name, got.Name, ok)
		}
		name := events.Name(k.Command)
		if got, ok := events.KindOfCommand(name); !ok || got.Name != k.Name {
			t.Errorf("KindOfCommand(%s) = %v, %v", name, got.Name, ok)
		}
		cmd, ok := events.NewCommand(name)
		if want := reflect.PointerTo(reflect.TypeOf(k.Command)); !ok || reflect.TypeOf(cmd) != want {
			t.Errorf("NewCommand(%s) = %T, want %v", name, cmd, want)
		}
		if !slices.Contains(events.CommandNames(), name) {
			t.Errorf("%s is not among the command names", name)
		}
		for _, et := range []events.EventType{k.Succeeded, k.Failed} {
			if ce, ok := events.CloudEventType(et.Name); !ok || ce != et.CloudEventType {
				t.Errorf("%s: CloudEvent type %q", et.Name, ce)
			}
			if !slices.Contains(outcomes, et.Name) {
				t.Errorf("%s is not an outcome", et.Name)
			}
		}
		if k.Action == "" || k.Scope == "" {
			t.Errorf("%s: action %q, scope %q", k.Name, k.Action, k.Scope)
		}
	}
	if _, ok := events.KindOf("rename_memory"); ok {
		t.Error("an unknown kind was found")
	}
	if _, ok := events.NewCommand("MemoryCreated"); ok {
		t.Error("an event was taken for a command")
	}
	if len(outcomes) != 2*len(kinds) {
		t.Errorf("outcomes %v", outcomes)
	}
}

// The failure event of each kind says everything of the failure it has a
// field for, and names the memory exactly when the kind is about one.
func TestFailedEventsCarryTheFailure(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	f := events.Failure{OperationID: "op-1", AppID: "app-1", EndUser: "alice", MemoryID: "mem-1",
		Code: "internal", Detail: "it broke", RequestID: "req-1", OccurredAt: at}
	aboutOne := map[operation.Kind]bool{operation.KindUpdateMemory: true, operation.KindDeleteMemory: true}
	for _, k := range events.Kinds() {
		ev := k.FailedEvent(f)
		if events.Name(ev) != k.Failed.Name {
			t.Errorf("%s: failed with %T", k.Name, ev)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		mustUnmarshal(t, b, &got)
		want := map[string]any{"version": 1.0, "operation_id": "op-1", "app_id": "app-1", "end_user": "alice",
			"code": "internal", "detail": "it broke", "request_id": "req-1", "occurred_at": "2026-11-26T12:30:00Z"}
		if aboutOne[k.Name] {
			want["memory_id"] = "mem-1"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s", k.Name, b)
		}
		if ev.CloudEventSubject() != "operations/op-1" || !ev.EventTime().Equal(at) {
			t.Errorf("%s: subject %q, time %v", k.Name, ev.CloudEventSubject(), ev.EventTime())
		}
	}
}
