package postgres_test

import (
	"context"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Ids come from request paths and queries; one Postgres cannot encode (NUL,
// invalid UTF-8) names nothing, and must not fail as a database error (500).
func TestLookupsOfUnencodableKeysFindNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := newTransactor(t)
	for _, id := range []string{"op\x00", "op\xff"} {
		if _, err := postgres.NewOperationRepository(pool).Get(ctx, id); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("operation %q: %v, want not found", id, err)
		}
		if _, err := postgres.NewApplicationRepository(pool).Get(ctx, id); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("application %q: %v, want not found", id, err)
		}
		entries, err := postgres.NewAuditRepository(pool).List(ctx, audit.Filter{AppID: id, Limit: 10})
		if err != nil || len(entries) != 0 {
			t.Errorf("audit of app %q: %v %v, want none", id, entries, err)
		}
	}
}
