package postgres

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/encoding/json"
)

// A transaction's events of one stream go into the outbox as one row, a
// bundle, when there are several (a batch of reads, accepts or a run's
// completions): the relay then reads, unwraps and acknowledges one row for
// them and sends them to Redis in one round trip, where it paid all of that
// per event. Subscribers see each event as its own stream entry, as before.

// bundleKey marks a bundle's metadata with how many events it holds.
const bundleKey = "custom_gpt_bundle"

// bundled is one event in a bundle, as Watermill's forwarder envelopes it.
type bundled struct {
	UUID     string            `json:"uuid"`
	Payload  []byte            `json:"payload"`
	Metadata map[string]string `json:"metadata"`
}

// bundle is msgs as one message; they keep their order, ids and metadata.
func bundle(msgs []*message.Message) (*message.Message, error) {
	items := make([]bundled, len(msgs))
	for i, m := range msgs {
		items[i] = bundled{UUID: m.UUID, Payload: m.Payload, Metadata: m.Metadata}
	}
	payload, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("bundle %d events: %w", len(msgs), err)
	}
	b := message.NewMessage(watermill.NewUUID(), payload)
	b.Metadata.Set(bundleKey, fmt.Sprint(len(msgs)))
	b.SetContext(msgs[0].Context())
	return b, nil
}

// countedRows marks the outbox row of a bundle, in its own metadata column,
// with how many events it holds, so that the backlog's count (BacklogMetrics)
// counts events without opening the envelope.
type countedRows struct {
	message.Publisher
	events int // in the messages of the next Publish, when they are one bundle
}

func (c *countedRows) Publish(topic string, msgs ...*message.Message) error {
	if c.events > 1 && len(msgs) == 1 {
		msgs[0].Metadata.Set(bundleKey, fmt.Sprint(c.events))
	}
	return c.Publisher.Publish(topic, msgs...)
}

// unbundling is the relay's publisher: a bundle is published as the events
// it holds, in one call (redis.BatchPublisher sends them together).
type unbundling struct{ message.Publisher }

func (u unbundling) Publish(stream string, msgs ...*message.Message) error {
	out := make([]*message.Message, 0, len(msgs))
	for _, m := range msgs {
		if m.Metadata.Get(bundleKey) == "" {
			out = append(out, m)
			continue
		}
		var items []bundled
		if err := json.Unmarshal(m.Payload, &items); err != nil {
			return fmt.Errorf("unbundle outbox message %s: %w", m.UUID, err)
		}
		for _, it := range items {
			e := message.NewMessage(it.UUID, it.Payload)
			e.Metadata = it.Metadata
			if e.Metadata == nil {
				e.Metadata = message.Metadata{}
			}
			e.SetContext(m.Context())
			out = append(out, e)
		}
	}
	return u.Publisher.Publish(stream, out...)
}
