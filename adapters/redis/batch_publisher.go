package redis

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"
)

// BatchPublisher is NewPublisher's publisher, except that the messages of one
// Publish call go to Redis in one pipeline: one write and one read for a
// batch, where Watermill's publisher waits for each XADD in turn. The outbox
// relay hands it a transaction's events of one stream at once.
type BatchPublisher struct {
	*redisstream.Publisher
	client goredis.UniversalClient
	maxLen int64
}

// NewBatchPublisher publishes to streams capped at about maxLen entries (0
// keeps every entry).
func NewBatchPublisher(opts *Options, maxLen int64, logger watermill.LoggerAdapter) (*BatchPublisher, error) {
	client := NewClient(opts)
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: client, DefaultMaxlen: maxLen, Marshaller: Marshaller{}}, logger)
	if err != nil {
		return nil, err
	}
	return &BatchPublisher{Publisher: pub, client: client, maxLen: maxLen}, nil
}

// Publish adds msgs to stream in their order; an error may leave a prefix of
// them added (delivery is at least once: the relay sends them all again).
func (p *BatchPublisher) Publish(stream string, msgs ...*message.Message) error {
	if len(msgs) < 2 {
		return p.Publisher.Publish(stream, msgs...)
	}
	pipe := p.client.Pipeline()
	for _, msg := range msgs {
		values, err := Marshaller{}.Marshal(stream, msg)
		if err != nil {
			return fmt.Errorf("cannot marshal message %s: %w", msg.UUID, err)
		}
		pipe.XAdd(msg.Context(), &goredis.XAddArgs{Stream: stream, Values: values, MaxLen: p.maxLen, Approx: true})
	}
	if _, err := pipe.Exec(msgs[0].Context()); err != nil {
		return fmt.Errorf("cannot xadd %d messages to %s: %w", len(msgs), stream, err)
	}
	return nil
}
