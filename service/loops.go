package service

import (
	"context"
	"log/slog"
	"time"
)

// loop is background work a worker repeats: now, then every period, until
// its context ends. Several processes may run the same loop: each run is safe
// to happen twice at once.
type loop struct {
	every time.Duration
	// done says what a run did; it is logged at level with the count when the
	// run did something. A failure is a warning: the next run tries again.
	done  string
	level slog.Level
	run   func(context.Context) (int64, error)
}

// runLoop runs l until ctx ends.
func runLoop(ctx context.Context, log *slog.Logger, l loop) {
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		n, err := l.run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("background task failed; it runs again", "task", l.done, "error", err)
		case n > 0:
			log.Log(ctx, l.level, l.done, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
