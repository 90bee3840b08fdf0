// Command custom-gpt-adapter gives ChatGPT Custom GPTs long-term memory backed by
// a mem0 Memory Bank. One binary: `serve` runs API and workers together, `api`
// and `worker` run each alone so they scale separately. The command line is a
// port (ports/cli); service/ wires it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/cli"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SetDefaultLogger: service.UseLogger,
	}, service.CLI)
	stop()
	os.Exit(code)
}
