package postgres_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// The purge deletes every kind of OAuth row once it has been unusable for the
// grace period, and nothing that is still usable or within that grace.
func TestPurgeExpiredOAuthKeepsWhatIsStillUsable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	_, hash := application.NewAPIKey()
	app, _ := application.New("client-1", "GPT", hash, time.Now())
	if err := postgres.NewApplicationRepository(pool).Add(ctx, app); err != nil {
		t.Fatal(err)
	}
	u, err := user.New("user-1", "alice@example.com", userTestHash(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewUserRepository(pool).Add(ctx, u); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewOAuthStore(pool)
	sessions := postgres.NewSessionStore(pool)
	now := time.Now().UTC()
	const accessTTL = time.Hour
	longAgo := now.Add(-3 * 24 * time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// Authorization requests: expired long ago (one with a code), live, and
	// expired but within the grace.
	request := func(id string, created time.Time, code string) {
		t.Helper()
		must(store.SaveAuthRequest(ctx, &oauth.AuthRequest{ID: id, ClientID: "client-1", AppID: "client-1", RedirectURI: "https://chatgpt.com/cb",
			Scopes: oauth.Scopes{oauth.ScopeRead}, ResponseType: "code", CreatedAt: created, ExpiresAt: created.Add(oauth.AuthRequestLifetime)}))
		if code != "" {
			must(store.CompleteAuthRequest(ctx, id, "user-1", created, created))
			must(store.SaveCode(ctx, id, hashOf(code), created))
		}
	}
	request("req-expired", longAgo, "")
	request("req-expired-code", longAgo, "code-1")
	request("req-live", now, "")
	request("req-in-grace", now.Add(-2*time.Hour), "")

	// Sessions: one expired long ago, one live.
	_, err = sessions.CreateSession(ctx, "user-1", longAgo)
	must(err)
	liveSession, err := sessions.CreateSession(ctx, "user-1", now)
	must(err)

	// Access token revocations: of a token expired long ago, and of a live one.
	must(store.RevokeAccessToken(ctx, "jti-expired", longAgo))
	must(store.RevokeAccessToken(ctx, "jti-live", now.Add(time.Hour)))

	// Grants, with the refresh tokens that keep them alive or not.
	grant := func(id string, created time.Time) {
		t.Helper()
		must(store.CreateGrant(ctx, &oauth.Grant{ID: id, ClientID: "client-1", AppID: "client-1", Subject: "user-1", Scopes: oauth.Scopes{oauth.ScopeRead}, CreatedAt: created}))
	}
	refresh := func(token, grantID string, created, expires time.Time, used bool) {
		t.Helper()
		must(store.SaveRefreshToken(ctx, hashOf(token), grantID, expires, created))
		if used {
			_, err := store.UseRefreshToken(ctx, hashOf(token), created.Add(time.Minute))
			must(err)
		}
	}
	// Revoked long ago: gone with its refresh token, though that has not expired.
	grant("g-revoked", longAgo)
	refresh("rt-of-revoked", "g-revoked", longAgo, now.Add(20*24*time.Hour), false)
	must(store.RevokeGrant(ctx, "g-revoked", longAgo))
	// Revoked within the grace: kept.
	grant("g-revoked-recently", longAgo)
	must(store.RevokeGrant(ctx, "g-revoked-recently", now.Add(-time.Hour)))
	// Its last refresh token expired long ago unused, an older one was used: gone.
	grant("g-expired", now.Add(-60*24*time.Hour))
	refresh("rt-used-old", "g-expired", now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour), true)
	refresh("rt-expired", "g-expired", now.Add(-59*24*time.Hour), longAgo, false)
	// Still refreshable: kept, and so is its live refresh token; its used
	// refresh token that expired long ago goes.
	grant("g-live", now.Add(-60*24*time.Hour))
	refresh("rt-live-used", "g-live", now.Add(-60*24*time.Hour), longAgo, true)
	refresh("rt-live", "g-live", now.Add(-2*24*time.Hour), now.Add(28*24*time.Hour), false)
	// Client credentials (no refresh token): gone once its access token has
	// expired past the grace, kept before.
	grant("g-cc-old", longAgo)
	grant("g-cc-new", now.Add(-10*time.Minute))

	n, err := postgres.PurgeExpiredOAuth(ctx, pool, now, accessTTL)
	must(err)

	remaining := func(table, column string) map[string]bool {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT `+column+` FROM `+table)
		must(err)
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var v string
			must(rows.Scan(&v))
			out[v] = true
		}
		must(rows.Err())
		return out
	}
	expect := func(what string, got map[string]bool, kept, purged []string) {
		t.Helper()
		for _, k := range kept {
			if !got[k] {
				t.Errorf("%s %s was purged, want it kept", what, k)
			}
		}
		for _, k := range purged {
			if got[k] {
				t.Errorf("%s %s was kept, want it purged", what, k)
			}
		}
	}
	expect("authorization request", remaining("custom_gpt_auth_requests", "id"),
		[]string{"req-live", "req-in-grace"}, []string{"req-expired", "req-expired-code"})
	expect("grant", remaining("custom_gpt_oauth_grants", "id"),
		[]string{"g-revoked-recently", "g-live", "g-cc-new"}, []string{"g-revoked", "g-expired", "g-cc-old"})
	expect("revocation", remaining("custom_gpt_revoked_access_tokens", "jti"), []string{"jti-live"}, []string{"jti-expired"})
	expect("refresh token", remaining("custom_gpt_refresh_tokens", "encode(token_hash, 'hex')"),
		[]string{hexHash("rt-live")}, []string{hexHash("rt-of-revoked"), hexHash("rt-used-old"), hexHash("rt-expired"), hexHash("rt-live-used")})
	var sessionsLeft int
	must(pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_sessions`).Scan(&sessionsLeft))
	if _, err := sessions.Session(ctx, liveSession); err != nil || sessionsLeft != 1 {
		t.Errorf("sessions left %d, live session: %v", sessionsLeft, err)
	}
	// 2 requests, 1 session, 1 revocation, 3 grants and 4 refresh tokens.
	if n != 11 {
		t.Errorf("purged %d rows, want 11", n)
	}
	if again, err := postgres.PurgeExpiredOAuth(ctx, pool, now, accessTTL); err != nil || again != 0 {
		t.Errorf("a second purge deleted %d (%v), want 0", again, err)
	}
	// The live grant still refreshes after the purge.
	if _, err := store.UseRefreshToken(ctx, hashOf("rt-live"), now); err != nil {
		t.Errorf("the live grant no longer refreshes: %v", err)
	}
}

func hexHash(s string) string { return hex.EncodeToString(hashOf(s)) }
