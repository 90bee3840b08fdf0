package redis

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CommandBus queues commands on their streams and says which entry each one
// became, so the service can tell later whether it is still on its way. It
// writes what Watermill's command bus writes (the same marshaler, the
// correlation id in the metadata), as one uncapped XADD.
type CommandBus struct {
	pub       *CommandPublisher
	topics    events.Topics
	marshaler cqrs.CommandEventMarshaler
}

func NewCommandBus(pub *CommandPublisher, topics events.Topics, marshaler cqrs.CommandEventMarshaler) *CommandBus {
	return &CommandBus{pub: pub, topics: topics, marshaler: marshaler}
}

// Send queues cmd and returns its stream entry id.
func (b *CommandBus) Send(ctx context.Context, cmd any) (string, error) {
	msg, err := b.marshaler.Marshal(cmd)
	if err != nil {
		return "", fmt.Errorf("marshal %s: %w", events.Name(cmd), err)
	}
	if msg.UUID == "" {
		msg.UUID = watermill.NewUUID()
	}
	if id := events.CorrelationID(ctx); id != "" {
		middleware.SetCorrelationID(id, msg)
	}
	return b.pub.Publish(ctx, b.topics.Command(b.marshaler.Name(cmd)), msg)
}
