package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

func disableUser(t *testing.T, users *postgres.UserRepository, id string) {
	t.Helper()
	err := users.Update(context.Background(), id, func(u *user.User) error {
		u.Disable(time.Now().UTC())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Whatever was issued for a user before they were disabled stops working
// even if their grants were never revoked (a disable interrupted between its
// two steps): the store checks the user's status itself.
func TestNothingIsIssuedForADisabledUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, users := newOAuthStoreWithUsers(t)
	now := time.Now().UTC()
	issueCode(t, s, "req-1", "code-1", now)
	if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-1", ClientID: "client-1", AppID: "client-1", Subject: "user-1", Scopes: oauth.Scopes{oauth.ScopeRead}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRefreshToken(ctx, hashOf("rt-1"), "grant-1", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if r, err := s.AccessTokenRevoked(ctx, "grant-1", "grant-1.jti"); err != nil || r {
		t.Fatalf("access token of an active user reads as revoked: %v", err)
	}

	disableUser(t, users, "user-1")
	if _, err := s.RedeemCode(ctx, hashOf("code-1"), "grant-2", now); !errors.Is(err, oauth.ErrUserDisabled) {
		t.Fatalf("code of a disabled user: %v", err)
	}
	if _, err := s.UseRefreshToken(ctx, hashOf("rt-1"), now); !errors.Is(err, oauth.ErrUserDisabled) {
		t.Fatalf("refresh token of a disabled user: %v", err)
	}
	if r, err := s.AccessTokenRevoked(ctx, "grant-1", "grant-1.jti"); err != nil || !r {
		t.Fatalf("access token of a disabled user reads as live: %v", err)
	}
}

// A client_credentials grant's subject is its application: no user row, and
// still live.
func TestApplicationGrantsNeedNoUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-cc", ClientID: "client-1", AppID: "client-1", Subject: "client-1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.AccessTokenRevoked(ctx, "grant-cc", "grant-cc.jti"); err != nil || r {
		t.Fatalf("client token reads as revoked: %v", err)
	}
}

func TestRevokingAUsersGrantsForgetsTheirPendingRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	issueCode(t, s, "req-1", "code-1", now)
	if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-1", ClientID: "client-1", AppID: "client-1", Subject: "user-1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeGrantsOfSubject(ctx, "user-1", now); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.AccessTokenRevoked(ctx, "grant-1", "grant-1.jti"); !r {
		t.Fatal("grant survived")
	}
	if _, err := s.RedeemCode(ctx, hashOf("code-1"), "grant-2", now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a pending code survived: %v", err)
	}
}
