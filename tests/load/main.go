// Command load measures the adapter against nginx in one run (issue 13): it
// starts the fake mem0, an nginx proxying to it and the adapter's api and
// worker, drives the same searches and creates at each of them with an
// open-loop generator, and prints the table BENCHMARKS.md keeps.
//
//	go tool task bench             # the whole comparison, a few minutes
//	go run ./tests/load -help      # the flags
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if isMem0Child() {
		os.Exit(serveMem0())
	}
	opts := defaultOptions()
	opts.register(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, opts, os.Stdout)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "load: interrupted; everything started was stopped")
		} else {
			fmt.Fprintf(os.Stderr, "load: %v\n", err)
		}
		os.Exit(1)
	}
	if n := rep.failed(); n > 0 {
		fmt.Fprintf(os.Stderr, "load: %d requests failed their checks (listed above)\n", n)
		os.Exit(1)
	}
}
