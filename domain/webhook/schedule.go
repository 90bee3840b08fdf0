package webhook

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy says when a failed delivery is tried again. Delays[0] is the
// wait before the first attempt and Delays[i] the wait after attempt i; a
// delivery whose attempts used every delay has failed.
type RetryPolicy struct {
	Delays []time.Duration
	// Jitter spreads each delay by up to ±Jitter of itself, so endpoints that
	// failed together are not retried in one burst.
	Jitter float64
	// MaxRetryAfter caps how far a receiver's Retry-After may push an attempt.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0, 1); nil uses math/rand.
	Rand func() float64
}

// DefaultRetryPolicy follows the Standard Webhooks (Svix) schedule: at once,
// then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: eight attempts over
// about 27.6 hours, never under 24.8 hours whatever the jitter.
var DefaultRetryPolicy = RetryPolicy{
	Delays: []time.Duration{
		0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
	},
	Jitter:        0.1,
	MaxRetryAfter: 12 * time.Hour,
}

// MaxAttempts is how many scheduled attempts a delivery gets.
func (p RetryPolicy) MaxAttempts() int { return len(p.Delays) }

// Next is when to try again after a failed scheduled attempt, the made-th,
// given the receiver's Retry-After (0 if none); ok is false when the schedule
// is used up. A Retry-After later than the schedule wins, up to MaxRetryAfter.
func (p RetryPolicy) Next(made int, now time.Time, retryAfter time.Duration) (next time.Time, ok bool) {
	if made >= len(p.Delays) {
		return time.Time{}, false
	}
	next = now.Add(p.jittered(p.Delays[made]))
	if retryAfter > 0 {
		if p.MaxRetryAfter > 0 {
			retryAfter = min(retryAfter, p.MaxRetryAfter)
		}
		if later := now.Add(retryAfter); later.After(next) {
			next = later
		}
	}
	return next, true
}

func (p RetryPolicy) jittered(d time.Duration) time.Duration {
	if p.Jitter <= 0 || d <= 0 {
		return d
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return d + time.Duration(float64(d)*p.Jitter*(2*r()-1))
}
