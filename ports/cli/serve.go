package cli

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// serveCommand runs the API, the workers, or both until ctx ends.
func serveCommand(name, summary string, api, worker bool) *node {
	return leaf(name, "", summary, noFlags(func(ctx context.Context, c *call, args []string) error {
		if len(args) != 0 {
			return misuse("takes no arguments")
		}
		return c.serve(ctx, api, worker)
	}))
}

// serve starts quietly: at INFO it says its version, its Memory Bank, the
// state of the database, where it listens and that its workers run; the
// libraries' own start-up chatter is DEBUG. Asked to stop (ctx ends), it
// drains and returns nil.
func (c *call) serve(ctx context.Context, api, worker bool) error {
	s, err := c.setup()
	if err != nil {
		return err
	}
	log := newLogger(c.env.Stderr, s.LogLevel)
	if c.env.SetDefaultLogger != nil {
		c.env.SetDefaultLogger(libraryLogger(log))
	}
	log.Info("starting", "version", version(), "api", api, "worker", worker)
	log.Info("memory bank", "flavor", s.MemoryBank.Flavor)
	for _, w := range s.MemoryBank.Warnings {
		log.Warn(w.Msg, w.Args...)
	}
	applied := 0
	if s.AutoMigrate {
		if applied, err = s.Migrate(ctx); err != nil {
			return stopped(ctx, err)
		}
	}
	rt, err := s.Connect(ctx, log)
	if err != nil {
		return stopped(ctx, err)
	}
	defer rt.Close()
	log.Info("database ready", "auto_migrate", s.AutoMigrate, "migrations_applied", applied)

	stopLogging := context.AfterFunc(ctx, func() { log.Info("shutting down") })
	defer stopLogging()
	g, gctx := errgroup.WithContext(ctx)
	if api {
		g.Go(func() error { return rt.RunAPI(gctx) })
	}
	if worker {
		g.Go(func() error { return rt.RunWorker(gctx) })
	}
	if worker && !api && s.WorkerAddr != "" {
		g.Go(func() error { return rt.RunOps(gctx) })
	}
	err = g.Wait()
	log.Info("stopped")
	return err
}

// stopped is err, or nil when it only says that ctx ended: a signal during
// start is a request to stop, not a failure.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
