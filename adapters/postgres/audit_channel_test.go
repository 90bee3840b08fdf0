package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// Each entry keeps the channel it came through; one that names none came
// through the REST API, as every entry before MCP did.
func TestAuditEntriesKeepTheirChannel(t *testing.T) {
	t.Parallel()
	tr, pool := newTransactor(t)
	now := time.Now().UTC()
	for _, ch := range []string{"mcp", "", "api"} {
		mustTx(t, tr, func(ctx context.Context, tx command.Tx) error {
			return tx.InsertAudit(ctx, audit.Entry{AppID: "app-1", Action: audit.ActionSearch, Status: audit.StatusSucceeded,
				RequestID: "req-" + ch, OccurredAt: now, Channel: ch})
		})
	}
	got, err := postgres.NewAuditRepository(pool).List(context.Background(), audit.Filter{AppID: "app-1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"req-mcp": "mcp", "req-": "api", "req-api": "api"}
	if len(got) != len(want) {
		t.Fatalf("entries = %+v", got)
	}
	for _, e := range got {
		if e.Channel != want[e.RequestID] {
			t.Errorf("entry %s: channel %q, want %q", e.RequestID, e.Channel, want[e.RequestID])
		}
	}
}
