package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A loop runs at once and then every period; a failure is a warning and the
// next run still comes; what a run did is logged at the loop's level; it
// returns when its context ends.
func TestRunLoop(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	l := loop{every: time.Millisecond, done: "tidied", level: slog.LevelInfo, run: func(context.Context) (int64, error) {
		runs++
		switch runs {
		case 1:
			return 0, errors.New("store down")
		case 2:
			return 7, nil
		}
		cancel()
		return 0, nil
	}}
	finished := make(chan struct{})
	go func() { runLoop(ctx, log, l); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not return after its context ended")
	}
	if runs != 3 {
		t.Errorf("%d runs, want 3 (the failure did not stop the loop)", runs)
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "store down") {
		t.Errorf("the failure was not a warning:\n%s", out)
	}
	if !strings.Contains(out, "level=INFO msg=tidied count=7") {
		t.Errorf("what the second run did was not logged at INFO:\n%s", out)
	}
	if strings.Count(out, "msg=tidied") != 1 {
		t.Errorf("a run that did nothing was logged:\n%s", out)
	}
}
