package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// userTestHash is one real PHC string shared by the tests: hashing is slow on purpose.
var userTestHash = sync.OnceValue(func() string {
	h, err := user.HashPassword("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	return h
})

func newRepoTestUser(t *testing.T, id, email string, now time.Time) *user.User {
	t.Helper()
	u, err := user.New(id, email, userTestHash(), now)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantUserConflictOn(t *testing.T, err error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindConflict || e.Field != field {
		t.Fatalf("error = %#v, want KindConflict on %q", err, field)
	}
}

func TestUserRepository(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)

	created := time.Date(2025, 3, 1, 12, 0, 0, 123000, time.UTC)
	alice := newRepoTestUser(t, "user-1", "Alice@Example.com", created)
	if err := repo.Add(ctx, alice); err != nil {
		t.Fatalf("add: %v", err)
	}

	got, err := repo.Get(ctx, "user-1")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ID() != "user-1" || got.Email() != "Alice@Example.com" || got.PasswordHash() != userTestHash() ||
		got.Status() != user.StatusActive || got.UpstreamSub() != "" ||
		!got.CreatedAt().Equal(created) || !got.UpdatedAt().Equal(created) || got.CreatedAt().Location() != time.UTC {
		t.Fatalf("get returned %+v", got)
	}
	if ok, err := user.VerifyPassword("correct horse battery staple", got.PasswordHash()); err != nil || !ok {
		t.Fatalf("stored hash does not verify: %v %v", ok, err)
	}

	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM", "  alice@example.com\n"} {
		got, err := repo.ByEmail(ctx, email)
		if err != nil || got.ID() != "user-1" {
			t.Fatalf("by email %q: %v %+v", email, err, got)
		}
	}
	if _, err := repo.ByEmail(ctx, "bob@example.com"); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("unknown email: want not found, got %v", err)
	}
	if _, err := repo.Get(ctx, "missing"); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("unknown id: want not found, got %v", err)
	}

	// The same address in another case is the same account.
	wantUserConflictOn(t, repo.Add(ctx, newRepoTestUser(t, "user-2", "alice@EXAMPLE.com", created)), "email")
	wantUserConflictOn(t, repo.Add(ctx, newRepoTestUser(t, "user-1", "carol@example.com", created)), "user_id")
	if _, err := repo.Get(ctx, "user-2"); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("conflicting user stored: %v", err)
	}

	later := created.Add(time.Hour)
	if err := repo.Update(ctx, "user-1", func(u *user.User) error { u.Disable(later); return nil }); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err = repo.ByEmail(ctx, "alice@example.com")
	if err != nil || got.Status() != user.StatusDisabled || !got.UpdatedAt().Equal(later) || !got.CreatedAt().Equal(created) {
		t.Fatalf("after update: %v %+v", err, got)
	}
	if errs.KindOf(got.Authorize()) != errs.KindForbidden {
		t.Fatal("disabled user still authorized after a round trip")
	}

	if err := repo.Update(ctx, "missing", func(*user.User) error { return nil }); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("update missing: want not found, got %v", err)
	}
}

// An update whose closure fails writes nothing, even what it changed first.
func TestUserRepository_failedUpdateWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)

	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := repo.Add(ctx, newRepoTestUser(t, "user-1", "alice@example.com", created)); err != nil {
		t.Fatal(err)
	}
	err := repo.Update(ctx, "user-1", func(u *user.User) error {
		u.Disable(created.Add(time.Hour))
		return errs.Invalid("x", "x", "x")
	})
	if errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("failing update: %v", err)
	}
	got, err := repo.Get(ctx, "user-1")
	if err != nil || got.Status() != user.StatusActive || !got.UpdatedAt().Equal(created) {
		t.Fatalf("failed update changed the user: %v %+v", err, got)
	}
}

// Users of the upstream provider have no password; several local users have no
// upstream subject. Both are NULL, not "", or the unique index would refuse
// the second local user.
func TestUserRepository_nullableColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, u := range []*user.User{
		newRepoTestUser(t, "local-1", "a@example.com", now),
		newRepoTestUser(t, "local-2", "b@example.com", now),
		user.UnmarshalFromDatabase("upstream-1", "c@example.com", "", user.StatusActive, "issuer|sub-1", now, now),
	} {
		if err := repo.Add(ctx, u); err != nil {
			t.Fatalf("add %s: %v", u.ID(), err)
		}
	}
	var nullHashes, nullSubs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE password_hash IS NULL), count(*) FILTER (WHERE upstream_sub IS NULL) FROM custom_gpt_users`).
		Scan(&nullHashes, &nullSubs); err != nil {
		t.Fatal(err)
	}
	if nullHashes != 1 || nullSubs != 2 {
		t.Fatalf("NULL password hashes %d (want 1), NULL upstream subjects %d (want 2)", nullHashes, nullSubs)
	}
	got, err := repo.Get(ctx, "upstream-1")
	if err != nil || got.PasswordHash() != "" || got.UpstreamSub() != "issuer|sub-1" {
		t.Fatalf("upstream user: %v %+v", err, got)
	}
	wantUserConflictOn(t, repo.Add(ctx, user.UnmarshalFromDatabase("upstream-2", "d@example.com", "", user.StatusActive, "issuer|sub-1", now, now)), "upstream_sub")
}

// Two sign-ups racing for one address, in different cases: exactly one wins.
func TestUserRepository_concurrentAddOfOneEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	emails := []string{"race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM"}
	errc := make(chan error, len(emails))
	var wg sync.WaitGroup
	for i, email := range emails {
		u := newRepoTestUser(t, "user-"+string(rune('a'+i)), email, now)
		wg.Go(func() { errc <- repo.Add(ctx, u) })
	}
	wg.Wait()
	close(errc)
	var wins, conflicts int
	for err := range errc {
		switch {
		case err == nil:
			wins++
		case errs.KindOf(err) == errs.KindConflict:
			conflicts++
		default:
			t.Errorf("add: %v", err)
		}
	}
	if wins != 1 || conflicts != len(emails)-1 {
		t.Fatalf("%d adds won and %d conflicted; want 1 and %d", wins, conflicts, len(emails)-1)
	}
}
