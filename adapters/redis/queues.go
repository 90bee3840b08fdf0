package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CommandQueues inspects the command streams' consumer groups.
type CommandQueues struct {
	client goredis.UniversalClient
	topics events.Topics
}

func NewCommandQueues(client goredis.UniversalClient, topics events.Topics) *CommandQueues {
	return &CommandQueues{client: client, topics: topics}
}

// Idle tells whether every entry of the command's stream was delivered to its
// workers' group and acknowledged. A stream that does not exist is idle (Redis
// lost it, or no such command was ever sent); one whose group does not exist
// yet is idle only when empty (no worker has started).
func (q *CommandQueues) Idle(ctx context.Context, commandName string) (bool, error) {
	stream, group := q.topics.Command(commandName), q.topics.ConsumerGroup(commandName)
	groups, err := q.client.XInfoGroups(ctx, stream).Result()
	if err != nil && strings.Contains(err.Error(), "no such key") {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		if g.Pending > 0 {
			return false, nil
		}
		info, err := q.client.XInfoStream(ctx, stream).Result()
		if err != nil {
			return false, err
		}
		return g.LastDeliveredID == info.LastGeneratedID, nil
	}
	n, err := q.client.XLen(ctx, stream).Result()
	return n == 0, err
}

// OnItsWay tells whether the command queued as entry of its stream is still
// waiting for, or held by, a worker of its group.
func (q *CommandQueues) OnItsWay(ctx context.Context, commandName, entry string) (bool, error) {
	state, err := NewCommandPublisher(q.client).EntryState(ctx, q.topics.Command(commandName), q.topics.ConsumerGroup(commandName), entry)
	if err != nil {
		return false, err
	}
	return state != EntryGone, nil
}
