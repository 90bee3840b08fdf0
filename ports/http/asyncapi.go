package http

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// The AsyncAPI 3.0.0 document at /asyncapi.json describes the event streams
// for other services. It is built from events.EventTypes: a channel and a
// send operation per event, payload schemas generated from the Go structs by
// huma's schema registry (the same generator as /openapi.json), descriptions
// from the event tables of package events. Nothing in it is written by hand twice.

// asyncAPIServer is the name of the Redis server in the document.
const asyncAPIServer = "redis"

// eventMetadataSchema names the schema of the metadata every entry carries.
const eventMetadataSchema = "EventMetadata"

type obj = map[string]any

func ref(path string) obj { return obj{"$ref": path} }

// newAsyncAPIDocument renders the document for the deployment whose streams
// start with topics.Prefix. publicURL links it to the HTTP API.
func newAsyncAPIDocument(topics events.Topics, publicURL string) []byte {
	registry := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	channels, operations, messages := obj{}, obj{}, obj{}
	for _, et := range events.EventTypes() {
		payload := registry.Schema(reflect.TypeOf(et.Payload), true, et.Name)
		registry.SchemaFromRef(payload.Ref).Description = et.Description
		channels[et.Name] = obj{
			"address":     topics.Event(et.Name),
			"title":       et.Name,
			"description": et.Description,
			"servers":     []obj{ref("#/servers/" + asyncAPIServer)},
			"messages":    obj{et.Name: ref("#/components/messages/" + et.Name)},
		}
		operations["send"+et.Name] = obj{
			"action":  "send",
			"channel": ref("#/channels/" + et.Name),
			"summary": "Appends a " + et.Name + " entry (" + et.CloudEventType + ") to " + topics.Event(et.Name) + ".",
			"messages": []obj{
				ref("#/channels/" + et.Name + "/messages/" + et.Name),
			},
		}
		messages[et.Name] = obj{
			"name":        et.Name,
			"title":       et.Name,
			"summary":     et.Description,
			"contentType": events.DataContentType,
			"payload":     payload,
			// The entry's metadata field: the common attributes, with the
			// two that name this event pinned to their values.
			"headers": obj{"allOf": []obj{
				ref("#/components/schemas/" + eventMetadataSchema),
				{"type": "object", "properties": obj{
					"name":        obj{"const": et.Name},
					events.CEType: obj{"const": et.CloudEventType},
				}},
			}},
			"correlationId": ref("#/components/correlationIds/correlationId"),
		}
	}

	schemas := obj{eventMetadataSchema: eventMetadata(topics)}
	for name, s := range registry.Map() {
		// Subscribers must accept fields added within a version (see
		// events/doc.go), so the published schemas do not forbid them.
		s.AdditionalProperties = nil
		schemas[name] = s
	}

	doc := obj{
		"asyncapi": "3.0.0",
		"id":       topics.Source(),
		"info": obj{
			"title":       "custom-gpt-adapter events",
			"version":     strconv.Itoa(events.Version),
			"description": asyncAPIDescription,
			"externalDocs": obj{
				"description": "The HTTP API whose requests cause these events",
				"url":         publicURL + "/openapi.json",
			},
		},
		"defaultContentType": events.DataContentType,
		"servers": obj{asyncAPIServer: obj{
			"host":     "{host}",
			"protocol": "redis",
			"title":    "The deployment's Redis",
			"description": "Redis streams, one per event (Redis 6.2 or newer). The address is " +
				"CUSTOM_GPT_REDIS_URL's, which this public document does not reveal; ask the " +
				"operator for it and for an account that may read the streams.",
			"variables": obj{"host": obj{
				"description": "host:port of the deployment's Redis",
				"examples":    []string{"127.0.0.1:6379"},
			}},
		}},
		"channels":   channels,
		"operations": operations,
		"components": obj{
			"schemas":  schemas,
			"messages": messages,
			"correlationIds": obj{"correlationId": obj{
				"description": "The X-Request-ID the client sent with the HTTP request that caused the event " +
					"(the service's request id when it sent none): every command and event of that request " +
					"carries it. Chosen by the client: the payload's request_id is the service's own.",
				"location": "$message.header#/correlation_id",
			}},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("asyncapi: render json: " + err.Error())
	}
	return b
}

// eventMetadata is the schema of an entry's metadata field.
func eventMetadata(topics events.Topics) obj {
	str := func(description string) obj { return obj{"type": "string", "description": description} }
	return obj{
		"type": "object",
		"description": "The entry's metadata field: a JSON object of strings. The ce_ keys are the " +
			"CloudEvents 1.0 context attributes, named as in CloudEvents' Kafka binding; with the " +
			"payload as data they form a binary-mode CloudEvent.",
		"required": []string{"name", events.CESpecVersion, events.CEID, events.CESource, events.CEType,
			events.CETime, events.CESubject, events.CEDataContentType},
		"properties": obj{
			"name":               str("The payload's name, the last part of the stream name."),
			"correlation_id":     str("The client's X-Request-ID of the HTTP request that caused the event, else its request_id."),
			events.CESpecVersion: obj{"const": events.CloudEventsSpecVersion},
			events.CEID: str("The CloudEvent id: the entry's _watermill_message_uuid. A redelivered " +
				"event keeps it: deduplicate on it."),
			events.CESource: obj{"const": topics.Source(), "description": "The deployment: " +
				"urn:custom-gpt-adapter:<stream prefix>."},
			events.CEType: str("The CloudEvent type, one per stream."),
			events.CETime: obj{"type": "string", "format": "date-time",
				"description": "When it happened (RFC 3339): the payload's occurred_at."},
			events.CESubject: obj{"type": "string", "pattern": "^(operations|memories|apps)/.+$",
				"description": "What it is about: operations/<operation_id> for an operation's outcome " +
					"(GET /api/v1/operations/{id}), memories/<memory_id> for a read of one memory, " +
					"apps/<app_id> for a search or a list."},
			events.CEDataContentType: obj{"const": events.DataContentType},
			events.CETraceParent: obj{"type": "string", "pattern": traceParentPattern,
				"description": "CloudEvents' distributed tracing extension: the W3C traceparent of the span the " +
					"event was made in (the request's or the worker's). Set once, never changed; only when " +
					"the service traces."},
			events.TraceParent: obj{"type": "string", "pattern": traceParentPattern,
				"description": "W3C traceparent of the span that put the entry on the stream (the outbox's " +
					"relay): a consumer's span continues the trace as its child. Only when the service traces."},
			"tracestate": str("W3C tracestate beside traceparent, when the trace has one."),
		},
		"additionalProperties": obj{"type": "string"},
	}
}

// traceParentPattern is a W3C traceparent: version, trace id, parent span id, flags.
const traceParentPattern = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

const asyncAPIDescription = `Events of custom-gpt-adapter for other services, on Redis streams.

**Stream entries.** Each event is one entry of its channel's stream, with three fields:
` + "`_watermill_message_uuid`" + ` (the message id), ` + "`payload`" + ` (the event, JSON) and
` + "`metadata`" + ` (a JSON object of strings: the message headers below). The metadata
carries the CloudEvents 1.0 attributes under ce_ names, so an entry is a binary-mode
CloudEvent: the payload is its data, ce_id its id. Payloads are versioned: fields are only
added within a version, so accept fields you do not know.

**Consumer groups.** Read a stream with a consumer group of your own, never one of the
service's: ` + "`XGROUP CREATE <stream> <group> $ MKSTREAM`" + ` (or ` + "`0`" + ` to replay
what the stream still holds), then ` + "`XREADGROUP GROUP <group> <consumer> BLOCK 5000 STREAMS <stream> >`" + `,
and ` + "`XACK`" + ` each entry once handled. After a restart, first read your own pending entries
(ID ` + "`0`" + ` instead of ` + "`>`" + `); take over a dead consumer's with ` + "`XAUTOCLAIM`" + `.
Streams are trimmed to about CUSTOM_GPT_EVENT_STREAM_MAXLEN entries.

**At least once.** The service relays events from a transactional outbox at least once, and
your group delivers again what you did not acknowledge: deduplicate on ce_id.

**Traces.** When the service traces (OpenTelemetry), an entry's metadata carries ` + "`traceparent`" + `
(W3C Trace Context: start your consumer span as its child to continue the request's trace)
and ` + "`ce_traceparent`" + `, the CloudEvents distributed tracing extension: where the event was made.`

// serveAsyncAPI serves the rendered document.
func serveAsyncAPI(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		document{}.serve(w, "application/json", body)
	}
}
