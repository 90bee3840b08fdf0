package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// A user of the upstream provider is found by issuer and subject exactly:
// not by a subject of another issuer, not by a case variant, never by "".
func TestUserRepository_byUpstreamSub(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sub := user.UpstreamSubject("https://idp.example.com", "Sub-1")
	u, err := user.NewUpstream("upstream-1", "Carol@example.com", sub, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Add(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := repo.Add(ctx, newRepoTestUser(t, "local-1", "dave@example.com", now)); err != nil {
		t.Fatal(err)
	}

	got, err := repo.ByUpstreamSub(ctx, sub)
	if err != nil || got.ID() != "upstream-1" || got.Email() != "Carol@example.com" || got.PasswordHash() != "" ||
		got.UpstreamSub() != sub || got.Status() != user.StatusActive {
		t.Fatalf("by upstream sub: %v %+v", err, got)
	}
	for _, other := range []string{"", user.UpstreamSubject("https://idp.example.com", "sub-1"),
		user.UpstreamSubject("https://other.example.com", "Sub-1"), "Sub-1"} {
		if _, err := repo.ByUpstreamSub(ctx, other); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("by upstream sub %q: want not found, got %v", other, err)
		}
	}
}
