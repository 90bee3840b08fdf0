package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/cli"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// ChildRoleEnv makes a re-executed test binary run one command of the real
// binary instead of the tests, so a fault test can SIGKILL a whole process.
const ChildRoleEnv = "CUSTOM_GPT_TEST_CHILD"

// mainArgsEnv, with the child role "main", runs the binary's own main with
// these arguments (a JSON array), so a test sees its real exit status.
const mainArgsEnv = "CUSTOM_GPT_TEST_MAIN_ARGS"

// Main is every test package's TestMain: in a re-executed child it runs the
// command the parent asked for instead of the tests.
func Main(m *testing.M) {
	if role := os.Getenv(ChildRoleEnv); role == "main" {
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(mainArgsEnv)), &args); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", mainArgsEnv, err)
			os.Exit(125)
		}
		os.Exit(runMain(args))
	} else if role != "" {
		os.Exit(runChild(role))
	}
	// zitadel/oidc logs only through slog's default, which no server in this
	// process sets (their logs would cross): keep its warnings, drop its
	// per-server route listing.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// runChild runs `role` (e.g. worker) as the binary's main does, until a
// signal, or until its standard input closes: the parent holds it open, so a
// child never outlives a test binary that died without cleaning up.
func runChild(role string) int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return runAsMain(ctx, []string{role}, io.Discard)
}

// Run runs one command line in this process, as the binary would.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, getenv, stdout, stderr, nil)
}

// runWith is Run with services built with opts.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts []service.Option) error {
	return cli.Run(ctx, args, cli.Env{Getenv: getenv, Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}, service.CLIWith(opts...))
}

// newLogger is the logger of a process, for services the tests build themselves.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// runMain runs args as the binary's main does, and returns its exit status.
func runMain(args []string) int { return runAsMain(context.Background(), args, os.Stdout) }

// runAsMain is what main.go does: the command line, cancelled by a signal,
// with the process's loggers handed to the libraries that keep one.
func runAsMain(ctx context.Context, args []string, stdout io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, args, cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: stdout, Stderr: os.Stderr,
		SetDefaultLogger: service.UseLogger}, service.CLI)
}

// RunMain runs the binary's main in a process of its own with the
// deployment's variables (see TestMain) and returns its exit status and
// standard error.
func (e *Deployment) RunMain(args ...string) (int, string) {
	e.T.Helper()
	encoded, err := json.Marshal(args)
	if err != nil {
		e.T.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ChildRoleEnv+"=main", mainArgsEnv+"="+string(encoded))
	for k, v := range e.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	e.T.Fatalf("run %v: %v", args, err)
	return 0, ""
}
