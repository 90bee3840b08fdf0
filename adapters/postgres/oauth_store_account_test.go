package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// The account page lists the grants that can still be used, and a user's
// disconnect reaches only their own grants to that application.
func TestLiveGrantsAndDisconnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newOAuthStore(t)
	now := time.Now().UTC()
	grant := func(id, subject string, refreshExpires time.Time) {
		t.Helper()
		if err := s.CreateGrant(ctx, &oauth.Grant{ID: id, ClientID: "client-1", AppID: "client-1", Subject: subject, Scopes: oauth.Scopes{oauth.ScopeRead}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRefreshToken(ctx, hashOf("rt-"+id), id, refreshExpires, now); err != nil {
			t.Fatal(err)
		}
	}
	grant("live", "user-1", now.Add(time.Hour))
	grant("expired", "user-1", now.Add(-time.Second))
	grant("revoked", "user-1", now.Add(time.Hour))
	grant("other-user", "user-2", now.Add(time.Hour))
	if err := s.RevokeGrant(ctx, "revoked", now); err != nil {
		t.Fatal(err)
	}
	got, err := s.LiveGrantsOfSubject(ctx, "user-1", now)
	if err != nil || len(got) != 1 || got[0].ID != "live" || !got[0].Scopes.Has(oauth.ScopeRead) {
		t.Fatalf("live grants: %v %+v", err, got)
	}

	if err := s.RevokeGrantsOfClient(ctx, "user-1", "client-1", now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LiveGrantsOfSubject(ctx, "user-1", now); len(got) != 0 {
		t.Fatalf("still live after disconnect: %+v", got)
	}
	if got, _ := s.LiveGrantsOfSubject(ctx, "user-2", now); len(got) != 1 {
		t.Fatalf("another user's grant was disconnected too: %+v", got)
	}
	if err := s.RevokeGrantsOfClient(ctx, "user-1", "client-\x00", now); err != nil {
		t.Fatalf("a client id Postgres cannot hold: %v", err)
	}
}
