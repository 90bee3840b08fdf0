package messaging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
)

// Only what someone must act on reaches ERROR; the rest stays visible at
// lower levels.
func TestLoggerKeepsRoutineFailuresBelowError(t *testing.T) {
	t.Parallel()

	cases := []struct {
		msg   string
		err   error
		level string
	}{
		{"read failed", fmt.Errorf("xreadgroup: %w", context.Canceled), "level=DEBUG"},
		{"Error occurred, retrying", errors.New("bank busy"), "level=INFO"},
		{"cannot ack", errors.New("connection refused"), "level=ERROR"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
		messaging.NewLogger(log).With(watermill.LogFields{"topic": "t"}).Error(c.msg, c.err, nil)
		line := out.String()
		if !strings.Contains(line, c.level) || !strings.Contains(line, c.err.Error()) || !strings.Contains(line, "topic=t") {
			t.Errorf("%q logged as %q, want %s with the error and fields", c.msg, line, c.level)
		}
	}
}

// Watermill's INFO (a line per handler and subscriber at each start and stop)
// is DEBUG here; its DEBUG stays DEBUG.
func TestLoggerShowsWatermillInfoAtDebug(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := messaging.NewLogger(log).With(watermill.LogFields{"topic": "t"})
	l.Info("Starting handler", watermill.LogFields{"handler": "h"})
	l.Debug("Subscribing", nil)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q, want two lines", out.String())
	}
	for _, line := range lines {
		if !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "topic=t") {
			t.Errorf("logged %q, want DEBUG with the fields", line)
		}
	}

	// At the default level nothing of it shows.
	out.Reset()
	quiet := messaging.NewLogger(slog.New(slog.NewTextHandler(&out, nil)))
	quiet.Info("Starting handler", nil)
	quiet.With(watermill.LogFields{"topic": "t"}).Info("Subscribed", nil)
	if out.Len() != 0 {
		t.Errorf("logged %q at INFO", out.String())
	}
}

// A TRACE line reaches a handler that wants it, with its fields, and no other.
func TestLoggerShowsTraceOnlyToATraceHandler(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: watermill.LevelTrace}))
	messaging.NewLogger(log).With(watermill.LogFields{"topic": "t"}).Trace("Received message", watermill.LogFields{"msg_uuid": "u"})
	if line := out.String(); !strings.Contains(line, "Received message") || !strings.Contains(line, "msg_uuid=u") || !strings.Contains(line, "topic=t") {
		t.Errorf("logged %q, want the trace line with its fields", line)
	}

	out.Reset()
	debug := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	messaging.NewLogger(debug).Trace("Received message", nil)
	if out.Len() != 0 {
		t.Errorf("logged %q at DEBUG", out.String())
	}
}
