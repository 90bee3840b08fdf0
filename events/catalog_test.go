package events_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Every event has a CloudEvent type and a description, and every CloudEvent
// type belongs to a listed event: a new event cannot be half registered.
func TestEventTypesAreComplete(t *testing.T) {
	types := events.EventTypes()
	if len(types) == 0 {
		t.Fatal("no event types")
	}
	seen := map[string]bool{}
	for _, et := range types {
		if seen[et.Name] {
			t.Errorf("%s listed twice", et.Name)
		}
		seen[et.Name] = true
		if !strings.HasPrefix(et.CloudEventType, "custom_gpt.") {
			t.Errorf("%s: CloudEvent type %q", et.Name, et.CloudEventType)
		}
		if d := et.Description; d == "" || strings.Contains(d, "Topic:") || strings.HasPrefix(d, et.Name) || !strings.HasSuffix(d, ".") {
			t.Errorf("%s: description %q", et.Name, d)
		}
		if events.Name(et.Payload) != et.Name {
			t.Errorf("%s: payload %T", et.Name, et.Payload)
		}
	}
	for _, name := range []string{"MemoryCreated", "MemoriesSearched", "MemoryHistoryRead", "MemoriesForgettingFailed"} {
		if !seen[name] {
			t.Errorf("%s is not listed", name)
		}
	}
	for _, name := range []string{"CreateMemory", "UpdateMemory", "DeleteMemory", "ForgetMemories"} {
		if _, ok := events.CloudEventType(name); ok {
			t.Errorf("command %s has a CloudEvent type", name)
		}
	}
}

func TestCloudEventAttributes(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 30, 0, 123456789, time.UTC)
	cases := []struct {
		event   any
		subject string
	}{
		{&events.MemoryCreated{OperationID: "op-1", OccurredAt: at}, "operations/op-1"},
		{events.MemoriesForgettingFailed{OperationID: "op-2", OccurredAt: at}, "operations/op-2"},
		{&events.MemoryRead{MemoryID: "m-1", OccurredAt: at}, "memories/m-1"},
		{&events.MemoryHistoryRead{MemoryID: "m-2", OccurredAt: at}, "memories/m-2"},
		{&events.MemoriesSearched{AppID: "app-1", OccurredAt: at}, "apps/app-1"},
		{&events.MemoriesListed{AppID: "app-2", OccurredAt: at}, "apps/app-2"},
	}
	source := events.Topics{Prefix: "custom_gpt"}.Source()
	if source != "urn:custom-gpt-adapter:custom_gpt" {
		t.Fatalf("source %q", source)
	}
	for _, c := range cases {
		name := events.Name(c.event)
		attrs, err := events.CloudEventAttributes("uuid-1", source, name, c.event)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ceType, _ := events.CloudEventType(name)
		want := map[string]string{
			events.CESpecVersion: "1.0", events.CEID: "uuid-1", events.CESource: source, events.CEType: ceType,
			events.CETime: "2026-11-26T12:30:00.123456789Z", events.CESubject: c.subject, events.CEDataContentType: "application/json",
		}
		if len(attrs) != len(want) {
			t.Errorf("%s: attributes %v", name, attrs)
		}
		for k, v := range want {
			if attrs[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, attrs[k], v)
			}
		}
	}

	// Without a time or a subject, the optional attributes are left out.
	attrs, err := events.CloudEventAttributes("uuid-2", source, "MemoryCreated", &events.MemoryCreated{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := attrs[events.CETime]; ok {
		t.Errorf("zero time gave ce_time %q", attrs[events.CETime])
	}
	if _, ok := attrs[events.CESubject]; ok {
		t.Errorf("no operation id gave ce_subject %q", attrs[events.CESubject])
	}

	// A payload that is no event, or an event with no CloudEvent type, is refused.
	if _, err := events.CloudEventAttributes("uuid-3", source, "CreateMemory", &events.CreateMemory{}); err == nil {
		t.Error("a command got CloudEvent attributes")
	}
	if _, err := events.CloudEventAttributes("uuid-4", source, "Renamed", &events.MemoryCreated{}); err == nil {
		t.Error("an event without a CloudEvent type got attributes")
	}
}
