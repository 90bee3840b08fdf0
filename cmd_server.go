package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// runServer runs the API, the workers, or both until ctx ends.
func runServer(ctx context.Context, getenv func(string) string, stderr io.Writer, api, worker bool) error {
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log) // libraries that log through slog's default (zitadel/oidc) log like us
	service.UseLogger(log)
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	g, ctx := errgroup.WithContext(ctx)
	if api {
		g.Go(func() error { return svc.RunAPI(ctx) })
	}
	if worker {
		g.Go(func() error { return svc.RunWorker(ctx) })
	}
	if worker && !api && cfg.WorkerAddr != "" {
		g.Go(func() error { return svc.RunOps(ctx) })
	}
	err = g.Wait()
	log.Info("stopped")
	return err
}
