package events_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Commands as the version before the shared header wrote them, into streams
// and into the operations table: what is queued or kept there must still be
// read, and what is written now must be read by a worker of that version.
var todaysCommands = []struct{ name, json string }{
	{"CreateMemory", `{"version":1,"operation_id":"op-1","app_id":"app-1","end_user":"alice","content":"likes tea","metadata":{"n":2,"topic":"drinks"},"conversation_id":"conv-1","request_id":"req-1","accepted_at":"2026-11-26T12:30:00.123456789Z"}`},
	{"CreateMemory", `{"version":1,"operation_id":"op-2","app_id":"app-1","content":"likes tea","request_id":"req-2","accepted_at":"2026-11-26T12:30:00.123456789Z"}`},
	{"UpdateMemory", `{"version":1,"operation_id":"op-3","app_id":"app-1","end_user":"alice","memory_id":"mem-1","content":"likes coffee","request_id":"req-3","accepted_at":"2026-11-26T12:30:00.123456789Z"}`},
	{"DeleteMemory", `{"version":1,"operation_id":"op-4","app_id":"app-1","end_user":"alice","memory_id":"mem-1","request_id":"req-4","accepted_at":"2026-11-26T12:30:00.123456789Z"}`},
	{"ForgetMemories", `{"version":1,"operation_id":"op-5","app_id":"app-1","request_id":"req-5","accepted_at":"2026-11-26T12:30:00.123456789Z"}`},
}

// The previous version's command types, field for field.
type (
	oldCreateMemory struct {
		Version        int            `json:"version"`
		OperationID    string         `json:"operation_id"`
		AppID          string         `json:"app_id"`
		EndUser        string         `json:"end_user,omitempty"`
		Content        string         `json:"content"`
		Metadata       map[string]any `json:"metadata,omitempty"`
		ConversationID string         `json:"conversation_id,omitempty"`
		RequestID      string         `json:"request_id"`
		AcceptedAt     time.Time      `json:"accepted_at"`
	}
	oldUpdateMemory struct {
		Version     int       `json:"version"`
		OperationID string    `json:"operation_id"`
		AppID       string    `json:"app_id"`
		EndUser     string    `json:"end_user,omitempty"`
		MemoryID    string    `json:"memory_id"`
		Content     string    `json:"content"`
		RequestID   string    `json:"request_id"`
		AcceptedAt  time.Time `json:"accepted_at"`
	}
)

var oldCommands = map[string]func() any{
	"CreateMemory":   func() any { return &oldCreateMemory{} },
	"UpdateMemory":   func() any { return &oldUpdateMemory{} },
	"DeleteMemory":   func() any { return &oldUpdateMemory{} }, // a subset: no content
	"ForgetMemories": func() any { return &oldUpdateMemory{} }, // a subset: no memory
}

func TestCommandsKeepTheirJSON(t *testing.T) {
	t.Parallel()
	for _, c := range todaysCommands {
		cmd, ok := events.NewCommand(c.name)
		if !ok {
			t.Fatalf("no command %s", c.name)
		}
		if err := json.Unmarshal([]byte(c.json), cmd); err != nil {
			t.Fatalf("%s: today's JSON does not decode: %v", c.name, err)
		}
		again, err := json.Marshal(cmd)
		if err != nil {
			t.Fatal(err)
		}
		// The same members with the same values; JSON does not order them.
		var want, got map[string]any
		mustUnmarshal(t, []byte(c.json), &want)
		mustUnmarshal(t, again, &got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s re-encoded as\n%s\nwant\n%s", c.name, again, c.json)
		}
		// A worker of the previous version reads the new JSON as it read its own.
		before, after := oldCommands[c.name](), oldCommands[c.name]()
		mustUnmarshal(t, []byte(c.json), before)
		mustUnmarshal(t, again, after)
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s: the previous version reads %+v, want %+v", c.name, after, before)
		}
		if events.OperationID(cmd) == "" || events.OperationID(cmd) != cmd.CommandHeader().OperationID {
			t.Errorf("%s: operation id %q", c.name, events.OperationID(cmd))
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

// A create command carries a memory built by the domain's constructor: one
// that breaks its rules cannot be read from a stream.
func TestCreateMemoryDecodesOnlyAValidMemory(t *testing.T) {
	t.Parallel()
	valid := `"version":1,"operation_id":"op-1","app_id":"app-1","request_id":"r","accepted_at":"2026-11-26T12:30:00Z"`
	for _, body := range []string{
		`"content":""`,
		`"content":"   "`,
		`"content":"x","metadata":{"user_id":"bob"}`,
		`"content":"x","metadata":{"nested":{"a":1}}`,
		`"content":"x","conversation_id":"` + strings.Repeat("c", 257) + `"`,
	} {
		var c events.CreateMemory
		if err := events.Marshaler.Unmarshal(message.NewMessage("1", []byte("{"+valid+","+body+"}")), &c); err == nil {
			t.Errorf("%s decoded to %+v", body, c)
		}
	}
	var c events.CreateMemory
	if err := json.Unmarshal([]byte("{"+valid+`,"content":"likes tea","metadata":{"topic":"drinks"}}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Draft.Content != "likes tea" || c.Draft.Metadata["topic"] != "drinks" || c.OperationID != "op-1" {
		t.Errorf("decoded %+v", c)
	}
}

// A failure event names the memory of a command about one, and no other.
func TestMemoryOfACommand(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[events.Command]string{
		&events.UpdateMemory{MemoryID: "m-1"}: "m-1",
		events.DeleteMemory{MemoryID: "m-2"}:  "m-2",
		&events.CreateMemory{}:                "",
		&events.ForgetMemories{}:              "",
	} {
		if got := events.MemoryOf(cmd); got != want {
			t.Errorf("MemoryOf(%T) = %q, want %q", cmd, got, want)
		}
	}
}
