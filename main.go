// Command custom-gpt-adapter gives ChatGPT Custom GPTs long-term memory backed by
// a mem0 Memory Bank. One binary: `serve` runs API and workers together, `api`
// and `worker` run each alone so they scale separately.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

const usage = `usage: custom-gpt-adapter <command> [arguments]

commands:
  serve                       HTTP API and workers in one process
  api                         HTTP API only
  worker                      workers only (commands, poison stream, outbox relay, webhooks)
  migrate                     create the database if needed and apply migrations
  apps create --name NAME [--redirect-uri URI]...
                              register an application and OAuth client; prints its
                              API key and client secret once
  apps list                   list applications
  apps add-redirect-uri APP_ID URI
                              register one more OAuth redirect URI (matched exactly)
  apps rotate-key APP_ID      replace an application's API key; prints the new one once
  apps rotate-secret APP_ID   replace the OAuth client secret; prints the new one once
  apps disable APP_ID         stop an application from calling the API
  apps set-limits APP_ID [--rps N] [--burst N] [--user-rps N] [--user-burst N] [--default]
                              override the default request budgets; prints the limits
  apps set-webhook APP_ID URL register (or replace) the application's webhook; prints its
                              signing secret once
  apps rotate-webhook-secret APP_ID [--overlap 24h]
                              new signing secret; the old one also signs during the overlap
  apps remove-webhook APP_ID  stop sending webhooks and forget their deliveries
  webhooks deliveries APP_ID [--limit 50]
                              newest deliveries with every attempt
  webhooks redeliver DELIVERY_ID
                              send a delivery again now and print the outcome
  users create --email EMAIL  create an end-user account; reads its password from stdin
  users disable USER_ID|EMAIL stop an end user from signing in
  users export --email EMAIL  print every memory the user stored, in every application, with
                              its history, as one JSON document (a data-access request)
  keys rotate                 add a new token signing key; the old one verifies until its tokens expire
  keys rewrap                 encrypt every stored secret with CUSTOM_GPT_SECRETS_KEY, opening
                              those under CUSTOM_GPT_SECRETS_KEY_OLD
  dlq list                    list commands parked on the dead-letter (poison) stream
  dlq replay MESSAGE_ID|--all reopen the operations of parked commands and send them again
  dlq drop MESSAGE_ID         delete a parked command without replaying it (its operation stays failed)
  healthcheck [--worker]      exit 0 when the local API (or, with --worker, the worker on
                              CUSTOM_GPT_WORKER_ADDR) answers /healthz (for containers)

Configuration is read from CUSTOM_GPT_* environment variables; see the README.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "custom-gpt-adapter:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServer(ctx, getenv, stderr, true, true)
	case "api":
		return runServer(ctx, getenv, stderr, true, false)
	case "worker":
		return runServer(ctx, getenv, stderr, false, true)
	case "migrate":
		return runMigrate(ctx, getenv, stdout, stderr)
	case "apps":
		return runApps(ctx, args[1:], getenv, stdout, stderr)
	case "users":
		return runUsers(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "webhooks":
		return runWebhooks(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], getenv, stdout, stderr)
	case "dlq":
		return runDLQ(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}

// withService runs fn with a connected service, for one-shot commands.
func withService(ctx context.Context, getenv func(string) string, stderr io.Writer, fn func(*service.Service) error) error {
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	service.UseLogger(log)
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	return fn(svc)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
