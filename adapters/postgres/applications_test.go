package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func TestApplicationRepository(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewApplicationRepository(pool)

	key, hash := application.NewAPIKey()
	app, err := application.New("app-1", "Travel GPT", hash, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Add(ctx, app); err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := repo.Add(ctx, app); errs.KindOf(err) != errs.KindConflict {
		t.Fatalf("second add: want conflict, got %v", err)
	}

	got, err := repo.ByKeyHash(ctx, application.HashAPIKey(key))
	if err != nil || got.ID() != "app-1" || got.Name() != "Travel GPT" || got.Status() != application.StatusActive {
		t.Fatalf("by key hash: %v %+v", err, got)
	}
	otherKey, _ := application.NewAPIKey()
	if _, err := repo.ByKeyHash(ctx, application.HashAPIKey(otherKey)); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("unknown key: want not found, got %v", err)
	}

	newKey, newHash := application.NewAPIKey()
	err = repo.Update(ctx, "app-1", func(a *application.Application) error {
		a.Disable(time.Now())
		return a.RotateKey(newHash, time.Now())
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := repo.ByKeyHash(ctx, application.HashAPIKey(key)); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("old key still works after rotation: %v", err)
	}
	got, err = repo.ByKeyHash(ctx, application.HashAPIKey(newKey))
	if err != nil || got.Status() != application.StatusDisabled {
		t.Fatalf("after update: %v %+v", err, got)
	}
	if err := repo.Update(ctx, "missing", func(*application.Application) error { return nil }); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("update missing: want not found, got %v", err)
	}

	// An update whose closure fails writes nothing.
	err = repo.Update(ctx, "app-1", func(a *application.Application) error {
		_ = a.RotateKey([]byte("x"), time.Now())
		return errs.Invalid("x", "x", "x")
	})
	if errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("failing update: %v", err)
	}
	if _, err := repo.ByKeyHash(ctx, application.HashAPIKey(newKey)); err != nil {
		t.Fatalf("failed update changed the key: %v", err)
	}

	list, err := repo.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %d", err, len(list))
	}
}

func TestApplicationRepositoryKeepsTheOAuthClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewApplicationRepository(pool)
	_, hash := application.NewAPIKey()
	app, _ := application.New("app-1", "GPT", hash, time.Now().UTC())
	secret, secretHash := application.NewClientSecret()
	app.RotateClientSecret(secretHash, time.Now())
	if err := app.AddRedirectURI("https://chatgpt.com/aip/g-1/oauth/callback", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := repo.Add(ctx, app); err != nil {
		t.Fatal(err)
	}
	err := repo.Update(ctx, "app-1", func(a *application.Application) error {
		return a.AddRedirectURI("https://chat.openai.com/aip/g-1/oauth/callback", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Get(ctx, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	c := got.OAuthClient()
	if string(c.SecretHash) != string(application.HashClientSecret(secret)) {
		t.Fatal("client secret hash lost")
	}
	if len(c.RedirectURIs) != 2 || c.RedirectURIs[0] != "https://chatgpt.com/aip/g-1/oauth/callback" || c.RedirectURIs[1] != "https://chat.openai.com/aip/g-1/oauth/callback" {
		t.Fatalf("redirect URIs %v", c.RedirectURIs)
	}
}

func TestApplicationRepositoryKeepsRateLimitOverrides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewApplicationRepository(pool)
	key, hash := application.NewAPIKey()
	app, _ := application.New("app-1", "GPT", hash, time.Now().UTC())
	if err := repo.Add(ctx, app); err != nil {
		t.Fatal(err)
	}
	if got, _ := repo.Get(ctx, "app-1"); got.RateLimits() != (application.RateLimits{}) {
		t.Fatalf("a new application has overrides: %+v", got.RateLimits())
	}
	one, two, five := 1, 2, 5
	err := repo.Update(ctx, "app-1", func(a *application.Application) error {
		return a.ChangeRateLimits(application.LimitsChange{AppPerSecond: &one, AppBurst: &two, UserBurst: &five}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	want := application.RateLimits{App: application.Rate{PerSecond: 1, Burst: 2}, User: application.Rate{Burst: 5}}
	// Authentication reads the application by its key: the overrides come with it.
	if got, err := repo.ByKeyHash(ctx, application.HashAPIKey(key)); err != nil || got.RateLimits() != want {
		t.Fatalf("by key hash: %+v %v, want %+v", got.RateLimits(), err, want)
	}
	// An unrelated update keeps them; a reset stores NULLs again.
	if err := repo.Update(ctx, "app-1", func(a *application.Application) error { a.Disable(time.Now()); return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := repo.Get(ctx, "app-1"); got.RateLimits() != want {
		t.Fatalf("after another update: %+v", got.RateLimits())
	}
	err = repo.Update(ctx, "app-1", func(a *application.Application) error {
		return a.ChangeRateLimits(application.LimitsChange{Reset: true}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	var nulls int
	if err := pool.QueryRow(ctx, `SELECT num_nulls(rate_limit_rps, rate_limit_burst, user_rate_limit_rps, user_rate_limit_burst)
		FROM custom_gpt_applications WHERE id = 'app-1'`).Scan(&nulls); err != nil || nulls != 4 {
		t.Fatalf("after reset: %d NULLs, %v", nulls, err)
	}
}
