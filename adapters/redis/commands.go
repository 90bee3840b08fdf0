package redis

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"
)

// CommandPublisher appends commands to their streams, each as one entry whose
// id it returns, and tells where an entry it wrote stands with the group that
// reads it.
type CommandPublisher struct {
	client goredis.UniversalClient
}

// NewCommandPublisher publishes with client; it never closes it.
func NewCommandPublisher(client goredis.UniversalClient) *CommandPublisher {
	return &CommandPublisher{client: client}
}

// Publish appends msg to stream with the fields Watermill's publisher writes
// with this package's Marshaller, so that a subscriber cannot tell the two
// apart, and returns the id Redis gave the entry. The stream is never capped:
// a command must not be dropped before it is handled (see TrimAcknowledged).
func (p *CommandPublisher) Publish(ctx context.Context, stream string, msg *message.Message) (string, error) {
	ids, errs := p.PublishAll(ctx, []Outgoing{{Stream: stream, Msg: msg}})
	return ids[0], errs[0]
}

// DeliveryState is where a stream entry stands with a consumer group.
type DeliveryState int

const (
	// EntryQueued is an entry the group has not been given yet, or one whose
	// group does not exist yet (a group is created at id 0 and reads it).
	EntryQueued DeliveryState = iota + 1
	// EntryInFlight is an entry delivered to a consumer of the group and not
	// acknowledged: being handled, or waiting to be claimed from a dead consumer.
	EntryInFlight
	// EntryGone is an entry the stream no longer holds (trimmed, deleted, or
	// lost with the stream), or one the group has received and acknowledged,
	// or one the group skipped (created after it at "$").
	EntryGone
)

func (s DeliveryState) String() string {
	switch s {
	case EntryQueued:
		return "queued"
	case EntryInFlight:
		return "in flight"
	case EntryGone:
		return "gone"
	}
	return "unknown"
}

// EntryState tells where entry id of stream stands with group. It only reads:
// a missing group or stream is not created. Each read sees Redis a moment
// later than the one before, in the order an entry moves (it exists, then is
// delivered, then leaves the pending list), so the answer was true at some
// moment during the call.
func (p *CommandPublisher) EntryState(ctx context.Context, stream, group, id string) (DeliveryState, error) {
	entry, err := parseStreamID(id)
	if err != nil {
		return 0, err
	}
	// A group deleted between two reads (NOGROUP from XPENDING) is looked at
	// once more from the start.
	for range 2 {
		state, err := p.entryState(ctx, stream, group, id, entry)
		if goredis.HasErrorPrefix(err, "NOGROUP") {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("state of %s in %s for %s: %w", id, stream, group, err)
		}
		return state, nil
	}
	return 0, fmt.Errorf("state of %s in %s for %s: the group keeps vanishing", id, stream, group)
}

func (p *CommandPublisher) entryState(ctx context.Context, stream, group, id string, entry streamID) (DeliveryState, error) {
	found, err := p.client.XRangeN(ctx, stream, id, id, 1).Result()
	if err != nil {
		return 0, err
	}
	if len(found) == 0 {
		return EntryGone, nil
	}
	groups, err := p.client.XInfoGroups(ctx, stream).Result()
	if goredis.HasErrorPrefix(err, "no such key") {
		return EntryGone, nil // the stream went since the entry was seen
	}
	if err != nil {
		return 0, err
	}
	i := -1
	for j, g := range groups {
		if g.Name == group {
			i = j
		}
	}
	if i < 0 {
		return EntryQueued, nil
	}
	last, err := parseStreamID(groups[i].LastDeliveredID)
	if err != nil {
		return 0, err
	}
	if last.less(entry) {
		return EntryQueued, nil
	}
	pending, err := p.client.XPendingExt(ctx, &goredis.XPendingExtArgs{
		Stream: stream, Group: group, Start: id, End: id, Count: 1,
	}).Result()
	if err != nil {
		return 0, err
	}
	if len(pending) > 0 {
		return EntryInFlight, nil
	}
	return EntryGone, nil
}

// Outgoing is one message for PublishAll.
type Outgoing struct {
	Stream string
	Msg    *message.Message
}

// PublishAll adds every message as Publish does, in one pipeline: one round
// trip for all. Each gets its entry id or its own error.
func (p *CommandPublisher) PublishAll(ctx context.Context, out []Outgoing) ([]string, []error) {
	ids, errs := make([]string, len(out)), make([]error, len(out))
	cmds := make([]*goredis.StringCmd, len(out))
	_, _ = p.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, o := range out {
			values, err := Marshaller{}.Marshal(o.Stream, o.Msg)
			if err != nil {
				errs[i] = fmt.Errorf("publish %s to %s: %w", o.Msg.UUID, o.Stream, err)
				continue
			}
			cmds[i] = pipe.XAdd(ctx, &goredis.XAddArgs{Stream: o.Stream, Values: values})
		}
		return nil
	})
	for i, c := range cmds {
		if c == nil {
			continue
		}
		if ids[i], errs[i] = c.Result(); errs[i] != nil {
			errs[i] = fmt.Errorf("publish %s to %s: %w", out[i].Msg.UUID, out[i].Stream, errs[i])
		}
	}
	return ids, errs
}
