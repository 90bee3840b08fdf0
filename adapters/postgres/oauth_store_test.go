package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func newOAuthStore(t *testing.T) *postgres.OAuthStore {
	t.Helper()
	s, _ := newOAuthStoreWithUsers(t)
	return s
}

// newOAuthStoreWithUsers is a store with the application client-1 and the
// active end user user-1, whose codes and refresh tokens the store honours.
func newOAuthStoreWithUsers(t *testing.T) (*postgres.OAuthStore, *postgres.UserRepository) {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	_, hash := application.NewAPIKey()
	app, _ := application.New("client-1", "GPT", hash, time.Now())
	if err := postgres.NewApplicationRepository(pool).Add(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	users := postgres.NewUserRepository(pool)
	if err := users.Add(context.Background(), newRepoTestUser(t, "user-1", "user-1@example.com", time.Now())); err != nil {
		t.Fatal(err)
	}
	return postgres.NewOAuthStore(pool), users
}

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// issueCode runs a request through sign-in and consent and attaches a code.
func issueCode(t *testing.T, s *postgres.OAuthStore, id, code string, issuedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	req := &oauth.AuthRequest{ID: id, ClientID: "client-1", AppID: "client-1", RedirectURI: "https://chatgpt.com/aip/g-1/oauth/callback",
		Scopes: oauth.Scopes{oauth.ScopeRead}, State: "xyz", ResponseType: "code",
		CreatedAt: issuedAt, ExpiresAt: issuedAt.Add(oauth.AuthRequestLifetime)}
	if err := s.SaveAuthRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, id, "user-1", issuedAt, issuedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCode(ctx, id, hashOf(code), issuedAt); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentRedemptionsOfOneCodeHaveOneWinner(t *testing.T) {
	t.Parallel()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	issueCode(t, s, "req-1", "code-1", now)

	var wins, reused atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			req, err := s.RedeemCode(context.Background(), hashOf("code-1"), fmt.Sprintf("grant-%d", i), now)
			switch {
			case err == nil && req.Subject == "user-1" && req.State == "xyz":
				wins.Add(1)
			case errors.Is(err, oauth.ErrCodeReused):
				reused.Add(1)
			default:
				t.Errorf("redemption %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || reused.Load() != 7 {
		t.Fatalf("%d winners, %d reuses; want 1 and 7", wins.Load(), reused.Load())
	}
}

func TestReusedCodeRevokesTheFirstGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	issueCode(t, s, "req-1", "code-1", now)
	if _, err := s.RedeemCode(ctx, hashOf("code-1"), "grant-1", now); err != nil {
		t.Fatal(err)
	}
	if revoked, _ := s.AccessTokenRevoked(ctx, "grant-1", "jti-1"); revoked {
		t.Fatal("fresh grant reads as revoked")
	}
	if _, err := s.RedeemCode(ctx, hashOf("code-1"), "grant-2", now); !errors.Is(err, oauth.ErrCodeReused) {
		t.Fatalf("second redemption: %v", err)
	}
	if revoked, _ := s.AccessTokenRevoked(ctx, "grant-1", "jti-1"); !revoked {
		t.Fatal("the first redemption's grant survived the code's reuse")
	}
}

func TestCodesExpireAndUnknownCodesFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	old := time.Now().UTC().Add(-oauth.CodeLifetime - time.Second)
	issueCode(t, s, "req-old", "code-old", old)
	if _, err := s.RedeemCode(ctx, hashOf("code-old"), "g", time.Now().UTC()); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := s.RedeemCode(ctx, hashOf("never-issued"), "g", time.Now().UTC()); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
}

func TestRefreshTokensRotateAndReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-1", ClientID: "client-1", AppID: "client-1", Subject: "user-1", Scopes: oauth.Scopes{oauth.ScopeRead}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRefreshToken(ctx, hashOf("rt-1"), "grant-1", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	g, err := s.UseRefreshToken(ctx, hashOf("rt-1"), now)
	if err != nil || g.ID != "grant-1" || g.Subject != "user-1" || !g.Scopes.Has(oauth.ScopeRead) {
		t.Fatalf("first use: %v %+v", err, g)
	}
	if err := s.SaveRefreshToken(ctx, hashOf("rt-2"), "grant-1", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	// rt-1 was rotated: using it again means it leaked.
	if _, err := s.UseRefreshToken(ctx, hashOf("rt-1"), now); !errors.Is(err, oauth.ErrRefreshReused) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := s.UseRefreshToken(ctx, hashOf("rt-2"), now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("the newest token of a revoked family still works: %v", err)
	}
	if _, err := s.UseRefreshToken(ctx, hashOf("unknown"), now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestAccessTokenRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-1", ClientID: "client-1", AppID: "client-1", Subject: "client-1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.AccessTokenRevoked(ctx, "grant-1", "jti-1"); !r {
		t.Fatal("revoked token reads as live")
	}
	if r, _ := s.AccessTokenRevoked(ctx, "grant-1", "jti-2"); r {
		t.Fatal("a sibling token was revoked too")
	}
	if r, _ := s.AccessTokenRevoked(ctx, "no-such-grant", "jti-3"); !r {
		t.Fatal("a token of an unknown grant reads as live")
	}
}
