package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// childRoleEnv makes a re-executed test binary run one command of the real
// binary instead of the tests, so a fault test can SIGKILL a whole process.
const childRoleEnv = "CUSTOM_GPT_TEST_CHILD"

// mainArgsEnv, with the child role "main", runs the binary's own main with
// these arguments (a JSON array), so a test sees its real exit status.
const mainArgsEnv = "CUSTOM_GPT_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role == "main" {
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(mainArgsEnv)), &args); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", mainArgsEnv, err)
			os.Exit(125)
		}
		os.Args = append(os.Args[:1], args...)
		main()
		os.Exit(0)
	} else if role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

// runChild runs `role` (e.g. worker) until a signal, or until its standard
// input closes: the parent holds it open, so a child never outlives a test
// binary that died without cleaning up.
func runChild(role string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := run(ctx, []string{role}, os.Getenv, io.Discard, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1
	}
	return 0
}
