package http

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/asyncapitest"
)

// The document is valid AsyncAPI 3.0.0 and has a channel, a send operation and
// a message for every event, whose schemas accept what the service publishes.
func TestAsyncAPIDocument(t *testing.T) {
	topics := events.Topics{Prefix: "custom_gpt"}
	raw := newAsyncAPIDocument(topics, "https://memory.example.com")
	if err := asyncapitest.Validate(raw); err != nil {
		t.Fatalf("invalid AsyncAPI 3.0.0: %v", err)
	}
	var doc struct {
		AsyncAPI string `json:"asyncapi"`
		Servers  map[string]struct {
			Protocol string `json:"protocol"`
		} `json:"servers"`
		Channels map[string]struct {
			Address  string         `json:"address"`
			Messages map[string]any `json:"messages"`
		} `json:"channels"`
		Operations map[string]struct {
			Action  string            `json:"action"`
			Channel map[string]string `json:"channel"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AsyncAPI != "3.0.0" || doc.Servers[asyncAPIServer].Protocol != "redis" {
		t.Fatalf("asyncapi %q, servers %v", doc.AsyncAPI, doc.Servers)
	}
	var tree any
	_ = json.Unmarshal(raw, &tree)
	for _, r := range refs(tree) {
		if resolve(tree, r) == nil {
			t.Errorf("$ref %s resolves to nothing", r)
		}
	}
	types := events.EventTypes()
	if len(doc.Channels) != len(types) || len(doc.Operations) != len(types) {
		t.Errorf("%d channels and %d operations for %d events", len(doc.Channels), len(doc.Operations), len(types))
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, et := range types {
		ch, ok := doc.Channels[et.Name]
		if !ok {
			t.Errorf("no channel for %s", et.Name)
			continue
		}
		if ch.Address != "custom_gpt.events."+et.Name || ch.Messages[et.Name] == nil {
			t.Errorf("channel %s: %+v", et.Name, ch)
		}
		op := doc.Operations["send"+et.Name]
		if op.Action != "send" || op.Channel["$ref"] != "#/channels/"+et.Name {
			t.Errorf("operation for %s: %+v", et.Name, op)
		}

		if d := resolve(tree, "#/components/schemas/"+et.Name+"/description"); d != et.Description {
			t.Errorf("schema %s has description %v", et.Name, d)
		}
		payload, err := asyncapitest.Schema(raw, "/components/messages/"+et.Name+"/payload")
		if err != nil {
			t.Fatalf("%s payload schema: %v", et.Name, err)
		}
		if err := payload.Validate(jsonValue(t, et.Payload)); err != nil {
			t.Errorf("%s: the payload schema refuses the Go type's JSON: %v", et.Name, err)
		}
		if payload.Validate(map[string]any{"version": "one"}) == nil {
			t.Errorf("%s: the payload schema accepts anything", et.Name)
		}
		extended := jsonValue(t, et.Payload).(map[string]any)
		extended["added_later"] = true
		if err := payload.Validate(extended); err != nil {
			t.Errorf("%s: the payload schema refuses a field added within the version: %v", et.Name, err)
		}

		headers, err := asyncapitest.Schema(raw, "/components/messages/"+et.Name+"/headers")
		if err != nil {
			t.Fatalf("%s headers schema: %v", et.Name, err)
		}
		ev := withIDs(t, et.Payload, at)
		attrs, err := events.CloudEventAttributes("0193c8e4-0000-7000-8000-000000000001", topics.Source(), et.Name, ev)
		if err != nil {
			t.Fatal(err)
		}
		md := map[string]any{"name": et.Name, "correlation_id": "req-1"}
		for k, v := range attrs {
			md[k] = v
		}
		if err := headers.Validate(md); err != nil {
			t.Errorf("%s: the headers schema refuses the published metadata: %v", et.Name, err)
		}
		const traced = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		md[events.CETraceParent], md[events.TraceParent] = traced, traced
		if err := headers.Validate(md); err != nil {
			t.Errorf("%s: the headers schema refuses a traced event's metadata: %v", et.Name, err)
		}
		md[events.CETraceParent] = "not-a-traceparent"
		if headers.Validate(md) == nil {
			t.Errorf("%s: the headers schema accepts a malformed ce_traceparent", et.Name)
		}
		md[events.CETraceParent] = traced
		md[events.CEType] = "custom_gpt.something.else"
		if headers.Validate(md) == nil {
			t.Errorf("%s: the headers schema accepts another event's type", et.Name)
		}
	}
}

// withIDs is a copy of the zero event p with every id and the time set, as
// the service publishes it.
func withIDs(t *testing.T, p events.Event, at time.Time) any {
	t.Helper()
	m := jsonValue(t, p).(map[string]any)
	for _, k := range []string{"operation_id", "app_id", "memory_id"} {
		if _, ok := m[k]; ok {
			m[k] = "id-1"
		}
	}
	m["occurred_at"] = at
	b, _ := json.Marshal(m)
	ptr := reflect.New(reflect.TypeOf(p)).Interface()
	if err := json.Unmarshal(b, ptr); err != nil {
		t.Fatal(err)
	}
	return ptr
}

func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A subscriber reading the document learns the entry layout and how to follow
// a stream.
func TestAsyncAPIDescriptionNamesTheEntryFields(t *testing.T) {
	for _, s := range []string{"_watermill_message_uuid", "`payload`", "`metadata`", "XGROUP CREATE", "XREADGROUP", "XACK", "ce_id",
		"`traceparent`", "`ce_traceparent`"} {
		if !strings.Contains(asyncAPIDescription, s) {
			t.Errorf("the description does not mention %s", s)
		}
	}
}

// refs lists every $ref in v.
func refs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, refs(x)...)
		}
	}
	return out
}

// resolve follows a local reference ("#/a/b") in doc; nil when it leads nowhere.
func resolve(doc any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(part)]
	}
	return doc
}
