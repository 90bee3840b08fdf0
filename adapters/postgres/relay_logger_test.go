package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
)

// The commit a stop cut short is routine; any other failure of the relay's
// subscriber stays an error.
func TestRelayLoggerKeepsTheStopsCommitBelowError(t *testing.T) {
	var out bytes.Buffer
	l := postgres.RelayLogger(watermill.NewSlogLogger(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))).
		With(watermill.LogFields{"topic": "outbox"})
	l.Error("could not commit tx for querying message", fmt.Errorf("failed to deallocate cached statement(s): %w", pgconn.ErrConnClosed), nil)
	if out.Len() != 0 {
		t.Fatalf("the stop's commit logged at INFO or above: %s", out.String())
	}
	l.Error("could not begin tx for querying", context.DeadlineExceeded, nil)
	l.Error("could not commit tx for querying message", fmt.Errorf("serialization failure"), nil)
	if n := strings.Count(out.String(), `"level":"ERROR"`); n != 2 {
		t.Fatalf("%d errors logged, want 2: %s", n, out.String())
	}
}
