package redis

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
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

// Pending is a command to send with the context it was given in, for its
// correlation id.
type Pending struct {
	Ctx context.Context
	Cmd any
}

// SendAll queues every command in one round trip (one pipeline) and returns each one's
// stream entry id or error.
func (b *CommandBus) SendAll(ctx context.Context, cmds []Pending) ([]string, []error) {
	out := make([]Outgoing, 0, len(cmds))
	at := make([]int, 0, len(cmds)) // index in cmds of each message in out
	ids, errs := make([]string, len(cmds)), make([]error, len(cmds))
	for i, c := range cmds {
		msg, err := b.message(c.Ctx, c.Cmd)
		if err != nil {
			errs[i] = err
			continue
		}
		out = append(out, Outgoing{Stream: b.topics.Command(b.marshaler.Name(c.Cmd)), Msg: msg})
		at = append(at, i)
	}
	sent, sendErrs := b.pub.PublishAll(ctx, out)
	for j, i := range at {
		ids[i], errs[i] = sent[j], sendErrs[j]
	}
	return ids, errs
}

// message is cmd as Watermill's command bus would write it.
func (b *CommandBus) message(ctx context.Context, cmd any) (*message.Message, error) {
	msg, err := b.marshaler.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", events.Name(cmd), err)
	}
	if msg.UUID == "" {
		msg.UUID = watermill.NewUUID()
	}
	if id := events.CorrelationID(ctx); id != "" {
		middleware.SetCorrelationID(id, msg)
	}
	return msg, nil
}
