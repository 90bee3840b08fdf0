package redis

import (
	"context"
	"errors"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// lostReads finds the entries a consumer's read took from its group without
// the consumer ever seeing them. Redis hands an entry to a blocked
// XREADGROUP and adds it to the consumer's pending list at once; when the
// answer then does not arrive (the connection dropped, or the process was
// paused past the read's deadline, so the client gave up on it), the entry
// stays pending to a consumer that does not know it has it. Watermill claims
// it back only after the group's claim idle time (minutes), and since a
// scope's writes run in order, the scope's every later write waits with it.
//
// go-redis retries a command whose connection broke, so a read can come
// back empty after its first answer was lost on the way: a read during which
// any of the client's connections failed is suspect too (see brokenConns).
//
// So every entry a consumer was given (read or claimed) is noted until it
// is acknowledged; after a read that failed, the consumer's pending entries
// that are not among them are the lost ones, and its next reads are
// answered with them, claimed again, before anything new.
type lostReads struct {
	mu sync.Mutex
	// given is, by stream and group, the consumer each entry was given to,
	// until it is acknowledged: an acknowledgement names no consumer.
	given   map[streamGroup]map[string]string
	suspect map[consumerKey]bool // consumers whose last read may have lost an answer
	// claiming counts XCLAIMs in flight per consumer: an entry they take is
	// pending before it is noted as given, so no lost entries are looked
	// for meanwhile.
	claiming map[consumerKey]int
}

func newLostReads() *lostReads {
	return &lostReads{given: map[streamGroup]map[string]string{}, suspect: map[consumerKey]bool{}, claiming: map[consumerKey]int{}}
}

// note records the entries k was given.
func (l *lostReads) note(k consumerKey, msgs []goredis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sg := streamGroup{stream: k.stream, group: k.group}
	given := l.given[sg]
	if given == nil {
		given = map[string]string{}
		l.given[sg] = given
	}
	for _, m := range msgs {
		given[m.ID] = k.consumer
	}
}

// acked forgets the entries of stream acknowledged in group.
func (l *lostReads) acked(stream, group string, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sg := streamGroup{stream: stream, group: group}
	given := l.given[sg]
	for _, id := range ids {
		delete(given, id)
	}
	if len(given) == 0 {
		delete(l.given, sg)
	}
}

func (l *lostReads) markSuspect(k consumerKey) {
	l.mu.Lock()
	l.suspect[k] = true
	l.mu.Unlock()
}

func (l *lostReads) isSuspect(k consumerKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.suspect[k]
}

// unknown are the ids k was not given; ok is false when a claim for k began
// meanwhile, whose entries may be pending to k before they are noted.
func (l *lostReads) unknown(k consumerKey, ids []string) (out []string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.claiming[k] > 0 {
		return nil, false
	}
	given := l.given[streamGroup{stream: k.stream, group: k.group}]
	for _, id := range ids {
		if given[id] != k.consumer {
			out = append(out, id)
		}
	}
	return out, true
}

func (l *lostReads) claimStarts(k consumerKey) {
	l.mu.Lock()
	l.claiming[k]++
	l.mu.Unlock()
}

func (l *lostReads) claimEnds(k consumerKey, msgs []goredis.XMessage) {
	l.note(k, msgs)
	l.mu.Lock()
	if l.claiming[k]--; l.claiming[k] <= 0 {
		delete(l.claiming, k)
	}
	l.mu.Unlock()
}

// lostPerLook bounds the pending entries one look reads: a consumer has few
// (Watermill reads one entry at a time), and a lost answer held one.
const lostPerLook = 16

// recover answers a read of new entries by k with an entry it lost, claimed
// again so that it counts as delivered once more; ok is false when k lost
// none (k is then no longer suspect) or the look failed (k stays suspect,
// and the read goes to Redis as usual).
func (l *lostReads) recover(ctx context.Context, next goredis.ProcessHook, k consumerKey) (msg goredis.XMessage, ok bool) {
	if !l.isSuspect(k) {
		return msg, false
	}
	pending := goredis.NewXPendingExtCmd(ctx, "xpending", k.stream, k.group, "-", "+", lostPerLook, k.consumer)
	if err := next(ctx, pending); err != nil && !errors.Is(err, goredis.Nil) {
		return msg, false
	}
	ids := make([]string, 0, len(pending.Val()))
	for _, p := range pending.Val() {
		ids = append(ids, p.ID)
	}
	lost, ok := l.unknown(k, ids)
	if !ok {
		return msg, false
	}
	for _, id := range lost {
		// Claimed with no idle time, by k itself: the entry's delivery count
		// goes up, as for any redelivery. An entry trimmed meanwhile comes
		// back as nothing, and Redis drops it from the pending list.
		claim := goredis.NewXMessageSliceCmd(ctx, "xclaim", k.stream, k.group, k.consumer, 0, id)
		if err := next(ctx, claim); err != nil && !errors.Is(err, goredis.Nil) {
			return msg, false
		}
		for _, m := range claim.Val() {
			if m.ID == id && m.Values != nil {
				l.note(k, []goredis.XMessage{m})
				return m, true
			}
		}
	}
	if len(ids) < lostPerLook {
		l.mu.Lock()
		delete(l.suspect, k)
		l.mu.Unlock()
	}
	return msg, false
}

// readsNew tells whether an XREADGROUP asks for new entries (id ">") of one
// stream: the reads Watermill makes, the only ones whose answer can be lost
// unnoticed.
func readsNew(args []any, streams []streamGroup) bool {
	return len(streams) == 1 && len(args) > 0 && argString(args, len(args)-1) == ">"
}

// xackArgs reads XACK stream group id...
func xackArgs(args []any) (stream, group string, ids []string) {
	if len(args) < 4 {
		return "", "", nil
	}
	for i := 3; i < len(args); i++ {
		ids = append(ids, argString(args, i))
	}
	return argString(args, 1), argString(args, 2), ids
}

// isXAck tells a command that acknowledges entries.
func isXAck(cmd goredis.Cmder) bool { return strings.EqualFold(cmd.Name(), "xack") }
