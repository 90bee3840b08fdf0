package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// A registered client is listed per application it asked for, and its
// revocation there ends its grants there only, and is kept.
func TestRegisteredClientsLinkAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	apps := postgres.NewApplicationRepository(pool)
	for _, id := range []string{"app-1", "app-2"} {
		_, hash := application.NewAPIKey()
		a, _ := application.New(id, "GPT "+id, hash, time.Now())
		if err := apps.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	s := postgres.NewOAuthStore(pool)
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := &oauth.Client{ID: "mcpc_1", Kind: oauth.KindRegistered, Name: "Agent", RedirectURIs: []string{"http://127.0.0.1/cb"},
		AuthMethod: oauth.AuthNone, CreatedAt: now}
	if err := s.RegisterClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Client(ctx, "mcpc_1"); err != nil || got.Name != "Agent" || got.Kind != oauth.KindRegistered || !got.Public() {
		t.Fatalf("client: %+v %v", got, err)
	}
	if _, err := s.Client(ctx, "mcpc_none\x00"); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("an unknown (and unencodable) client: %v", err)
	}
	for _, app := range []string{"app-1", "app-2"} {
		if revoked, err := s.UseClient(ctx, app, "mcpc_1", now); err != nil || revoked {
			t.Fatalf("use at %s: %v %v", app, revoked, err)
		}
		if err := s.CreateGrant(ctx, &oauth.Grant{ID: "grant-" + app, ClientID: "mcpc_1", AppID: app, Subject: "user-1",
			Scopes: oauth.Scopes{oauth.ScopeRead}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeClient(ctx, "app-1", "mcpc_1", now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeClient(ctx, "app-1", "mcpc_unknown", now); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("revoking an unknown client: %v", err)
	}
	for app, want := range map[string]bool{"app-1": true, "app-2": false} {
		g, err := s.Grant(ctx, "grant-"+app)
		if err != nil || g.Revoked() != want {
			t.Errorf("grant at %s revoked %v, want %v (%v)", app, g.Revoked(), want, err)
		}
		if revoked, err := s.ClientRevoked(ctx, app, "mcpc_1"); err != nil || revoked != want {
			t.Errorf("client revoked at %s: %v, want %v (%v)", app, revoked, want, err)
		}
		// Asking again does not undo a revocation.
		if revoked, err := s.UseClient(ctx, app, "mcpc_1", now.Add(time.Minute)); err != nil || revoked != want {
			t.Errorf("use again at %s: %v %v", app, revoked, err)
		}
	}
	links, err := s.ClientsOfApp(ctx, "app-1")
	if err != nil || len(links) != 1 || !links[0].Revoked() || links[0].Client.ID != "mcpc_1" || !links[0].LastUsed.After(links[0].FirstUsed) {
		t.Fatalf("clients of app-1: %+v %v", links, err)
	}

	// A metadata document is saved again on each fetch.
	doc := &oauth.Client{ID: "https://app.example/client.json", Name: "Doc", RedirectURIs: []string{"https://app.example/cb"},
		AuthMethod: oauth.AuthNone, CreatedAt: now, RefreshAt: now.Add(time.Hour)}
	for _, name := range []string{"Doc", "Doc 2"} {
		doc.Name = name
		if err := s.SaveMetadataClient(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Client(ctx, doc.ID); err != nil || got.Name != "Doc 2" || got.Kind != oauth.KindMetadataDocument || !got.RefreshAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("document client: %+v %v", got, err)
	}

	// A day after, what never asked for an application is purged; what did stays.
	if _, err := postgres.PurgeExpiredOAuth(ctx, pool, now.Add(25*time.Hour+time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(ctx, doc.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("an unused document client survived the purge: %v", err)
	}
	if _, err := s.Client(ctx, "mcpc_1"); err != nil {
		t.Errorf("a client in use was purged: %v", err)
	}
}
