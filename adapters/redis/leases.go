package redis

import (
	"context"
	"sync"
	"time"
)

// Leases spend a busy budget's events from a local lease instead of one
// Redis script each. Every event is still recorded in Redis before it is
// allowed: a lease is taken out of the shared budget (AllowAtMost) and spent
// here, so no budget is exceeded across instances; an instance only spends
// events up to LeaseLife after the budget counted them.
//
// A lease is sized by demand: its first is one event, and each lease spent
// within its life asks for twice the last, up to a LeaseShare-th of the
// budget's rate and a quarter of its burst; one that outlives its life is
// dropped, its unspent events lost (the budget is only ever stricter), and
// the next asks for what was spent. A budget whose cap is one event, as the
// default limits are, is checked in Redis for every event, as without leases.
type Leases struct {
	lim  *Limiter
	life time.Duration
	now  func() time.Time

	mu    sync.Mutex
	byKey map[string]*lease
	swept time.Time
}

const (
	// LeaseLife is how long an instance may spend a lease's events.
	LeaseLife = 100 * time.Millisecond
	// LeaseShare bounds a lease to this fraction of a budget's events a
	// period: 1 %, so 10,000 a second take leases of 100 at most, and no
	// budget under 200 a second is leased.
	LeaseShare = 100
)

// lease is one key's events taken from Redis and not yet spent.
type lease struct {
	mu       sync.Mutex
	limit    Limit     // the limit it was taken under: another drops it
	taken    time.Time // when Redis recorded its events
	granted  int
	left     int
	after    Decision // Redis's answer when it was taken
	size     int      // the next lease's size
	fetching bool     // a caller is taking the next one
}

// NewLeases leases from lim's budgets.
func NewLeases(lim *Limiter) *Leases {
	return &Leases{lim: lim, life: LeaseLife, now: time.Now, byKey: map[string]*lease{}}
}

// Allow spends one event of key's budget under l: from the key's lease while
// it has events and life, otherwise by taking a new lease from Redis. While
// one caller takes a lease, the others check Redis one event each, as they
// would without leases, rather than wait for it.
func (s *Leases) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	limit := min(l.Rate/LeaseShare, l.Burst/4)
	if limit < 2 {
		return s.lim.Allow(ctx, key, l)
	}
	le := s.lease(key)
	now := s.now()
	le.mu.Lock()
	if le.limit == l && le.left > 0 && now.Sub(le.taken) < s.life {
		le.left--
		d := le.after
		d.Remaining += le.left
		d.ResetAfter = max(d.ResetAfter-now.Sub(le.taken), 0)
		le.mu.Unlock()
		return d, nil
	}
	if le.fetching {
		le.mu.Unlock()
		return s.lim.Allow(ctx, key, l)
	}
	size := le.nextSize(l, now, s.life)
	size = max(min(size, limit), 1)
	le.fetching = true
	le.mu.Unlock()

	granted, d, err := s.lim.AllowAtMost(ctx, key, l, size)

	le.mu.Lock()
	defer le.mu.Unlock()
	le.fetching = false
	if err != nil || granted == 0 {
		le.limit, le.left, le.granted, le.size = l, 0, 0, 1
		return d, err
	}
	le.limit, le.taken, le.granted, le.left, le.after, le.size = l, s.now(), granted, granted-1, d, size
	d.Remaining += le.left
	return d, nil
}

// nextSize is the size the next lease asks for, from how the last one went.
func (le *lease) nextSize(l Limit, now time.Time, life time.Duration) int {
	switch {
	case le.limit != l || le.granted == 0:
		return 1
	case le.left == 0 && now.Sub(le.taken) < life:
		return le.size * 2 // spent within its life: demand is at least this
	default:
		return le.granted - le.left // outlived: ask for what was spent
	}
}

// lease is key's lease, made when missing. Leases that have outlived their
// life are forgotten once a second, so idle keys cost nothing.
func (s *Leases) lease(key string) *lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	le, ok := s.byKey[key]
	if ok {
		return le
	}
	if now := s.now(); now.Sub(s.swept) >= time.Second {
		s.swept = now
		for k, old := range s.byKey {
			old.mu.Lock()
			idle := !old.fetching && now.Sub(old.taken) >= s.life
			old.mu.Unlock()
			if idle {
				delete(s.byKey, k)
			}
		}
	}
	le = &lease{}
	s.byKey[key] = le
	return le
}
