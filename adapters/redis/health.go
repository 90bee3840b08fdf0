package redis

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ConsumerHealth knows whether the consumers of the subscribers that report to
// it (SubscriberConfig.Health) can read their streams. It backs readiness: a
// worker whose consumer cannot read takes no commands, however well Redis
// answers a PING. It is safe for concurrent use.
type ConsumerHealth struct {
	grace time.Duration

	mu sync.Mutex
	// reads holds each subscriber's consumers under its client's hook, so that
	// closing a subscriber forgets exactly its own.
	reads map[*groupHook]map[consumerKey]*readState
}

// NewConsumerHealth reports a consumer once its reads have been failing for
// longer than grace. Zero grace is twice the consumer's block time: a read
// that times out with nothing to read takes one block time, so a healthy
// consumer answers well within two.
func NewConsumerHealth(grace time.Duration) *ConsumerHealth {
	return &ConsumerHealth{grace: grace, reads: map[*groupHook]map[consumerKey]*readState{}}
}

type consumerKey struct{ stream, group, consumer string }

// readState is a consumer's last read: zero failingSince while reads succeed.
type readState struct {
	failingSince time.Time
	err          error
	grace        time.Duration
}

// record notes the outcome of a read by one of owner's consumers, whose block
// time is block. A read that timed out with nothing to read (redis.Nil)
// succeeded.
func (h *ConsumerHealth) record(owner *groupHook, k consumerKey, err error, block time.Duration) {
	if errors.Is(err, goredis.Nil) {
		err = nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if owner.closed {
		return // a read that ended as its subscriber closed the client
	}
	consumers := h.reads[owner]
	if consumers == nil {
		consumers = map[consumerKey]*readState{}
		h.reads[owner] = consumers
	}
	s := consumers[k]
	if s == nil {
		s = &readState{grace: h.grace}
		if s.grace <= 0 {
			s.grace = 2 * block
		}
		consumers[k] = s
	}
	switch {
	case err == nil:
		s.failingSince, s.err = time.Time{}, nil
	case s.failingSince.IsZero():
		s.failingSince, s.err = time.Now(), err
	default:
		s.err = err
	}
}

// forget drops owner's consumers: a closed subscriber reads no more, and is
// neither healthy nor failing.
func (h *ConsumerHealth) forget(owner *groupHook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	owner.closed = true
	delete(h.reads, owner)
}

// Check returns an error naming every consumer whose reads have been failing
// for longer than its grace, with how long and the last error; nil when
// there is none. A consumer that has read successfully since is healthy.
func (h *ConsumerHealth) Check() error {
	type failing struct {
		consumerKey
		readState
	}
	now := time.Now()
	var out []failing
	h.mu.Lock()
	for _, consumers := range h.reads {
		for k, s := range consumers {
			if !s.failingSince.IsZero() && now.Sub(s.failingSince) > s.grace {
				out = append(out, failing{k, *s})
			}
		}
	}
	h.mu.Unlock()
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b failing) int {
		return cmp.Or(cmp.Compare(a.stream, b.stream), cmp.Compare(a.group, b.group), cmp.Compare(a.consumer, b.consumer))
	})
	errs := make([]error, 0, len(out))
	for _, f := range out {
		errs = append(errs, fmt.Errorf("consumer %s of group %s cannot read stream %s for %v: %w",
			f.consumer, f.group, f.stream, now.Sub(f.failingSince).Round(time.Millisecond), f.err))
	}
	return errors.Join(errs...)
}
