package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// TrimAcknowledged removes from stream every entry that every consumer group
// of the stream has received and acknowledged, and returns how many it
// removed. Command streams are never capped by length (that could drop
// unprocessed commands), so without this Redis would keep the text of every
// command ever sent.
//
// A group's floor is its smallest pending id, or the id just after its
// last-delivered id when nothing is pending; the stream is trimmed exactly
// (XTRIM MINID, not ~) below the smallest floor. A stream with no group is
// left alone (no worker has read it yet); a missing stream is 0, nil.
//
// The groups are read before their pending entries, and a floor only moves
// forward (deliveries come after the last-delivered id, and an entry leaves
// the pending list when acknowledged), so a floor read a moment ago is at most
// too low: a race keeps an entry longer, never drops one still due. Deleting
// a consumer (XGROUP DELCONSUMER) drops its pending entries as if acknowledged;
// Watermill deletes only consumers with nothing pending. Every command touches
// the one key, so it works in cluster mode too.
func TrimAcknowledged(ctx context.Context, client goredis.UniversalClient, stream string) (trimmed int64, err error) {
	groups, err := client.XInfoGroups(ctx, stream).Result()
	if goredis.HasErrorPrefix(err, "no such key") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("trim %s: read groups: %w", stream, err)
	}
	if len(groups) == 0 {
		return 0, nil
	}
	var minID streamID
	for i, g := range groups {
		floor, err := groupFloor(ctx, client, stream, g)
		if err != nil {
			return 0, fmt.Errorf("trim %s: %w", stream, err)
		}
		if i == 0 || floor.less(minID) {
			minID = floor
		}
	}
	trimmed, err = client.XTrimMinID(ctx, stream, minID.String()).Result()
	if err != nil {
		return 0, fmt.Errorf("trim %s below %s: %w", stream, minID, err)
	}
	return trimmed, nil
}

// groupFloor is the smallest id group g may still need: its first pending
// entry, or the first it has not been given.
func groupFloor(ctx context.Context, client goredis.UniversalClient, stream string, g goredis.XInfoGroup) (streamID, error) {
	last, err := parseStreamID(g.LastDeliveredID)
	if err != nil {
		return streamID{}, fmt.Errorf("group %s: last delivered: %w", g.Name, err)
	}
	floor := last.next()
	pending, err := client.XPending(ctx, stream, g.Name).Result()
	if err != nil {
		return streamID{}, fmt.Errorf("group %s: pending: %w", g.Name, err)
	}
	if pending.Count == 0 {
		return floor, nil
	}
	lower, err := parseStreamID(pending.Lower)
	if err != nil {
		return streamID{}, fmt.Errorf("group %s: first pending: %w", g.Name, err)
	}
	if lower.less(floor) {
		floor = lower
	}
	return floor, nil
}
