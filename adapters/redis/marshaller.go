package redis

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Marshaller writes each stream entry as three plain fields: the message uuid
// (under Watermill's own key), "payload" (the JSON document) and "metadata" (a
// JSON object). Watermill's default packs metadata with msgpack; JSON lets a
// subscriber in any language read the name and correlation id with no extra
// library.
type Marshaller struct{}

var _ redisstream.MarshallerUnmarshaller = Marshaller{}

func (Marshaller) Marshal(_ string, msg *message.Message) (map[string]any, error) {
	md := []byte("{}")
	if len(msg.Metadata) > 0 {
		var err error
		if md, err = json.Marshal(msg.Metadata); err != nil {
			return nil, fmt.Errorf("marshal metadata: %w", err)
		}
	}
	return map[string]any{
		redisstream.UUIDHeaderKey: msg.UUID,
		"payload":                 []byte(msg.Payload),
		"metadata":                md,
	}, nil
}

func (Marshaller) Unmarshal(values map[string]any) (*message.Message, error) {
	uuid, ok := values[redisstream.UUIDHeaderKey].(string)
	if !ok {
		return nil, fmt.Errorf("stream entry has no %s field", redisstream.UUIDHeaderKey)
	}
	payload, _ := values["payload"].(string)
	msg := message.NewMessage(uuid, []byte(payload))
	if md, _ := values["metadata"].(string); md != "" {
		if err := json.Unmarshal([]byte(md), &msg.Metadata); err != nil {
			return nil, fmt.Errorf("unmarshal metadata: %w", err)
		}
	}
	return msg, nil
}
