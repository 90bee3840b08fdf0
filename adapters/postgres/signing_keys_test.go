package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

const signingTestIssuer = "https://memory.example.com"

func signingTestVerifier(keys jwt.KeySource) *jwt.Verifier {
	return &jwt.Verifier{Issuer: signingTestIssuer, Audience: signingTestIssuer, Keys: keys, Leeway: 30 * time.Second}
}

func signingTestToken(t *testing.T, key jwt.Key) string {
	t.Helper()
	now := time.Now()
	token, err := jwt.Sign(key, jwt.AccessClaims{
		Issuer: signingTestIssuer, Subject: "user-1", Audience: []string{signingTestIssuer}, ClientID: "app-1",
		Scope: []string{"memories:read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func signingKeyCount(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_signing_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantUnknownKID(t *testing.T, v *jwt.Verifier, token string) {
	t.Helper()
	_, err := v.Verify(context.Background(), token)
	var invalid *jwt.InvalidTokenError
	if !errors.As(err, &invalid) || invalid.Reason != jwt.ReasonUnknownKID {
		t.Fatalf("want %s, got %v", jwt.ReasonUnknownKID, err)
	}
}

// signingEventually polls cond until it holds or the deadline passes.
func signingEventually(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		<-tick.C
	}
}

// insertRetiredSigningKey stores key as a retired key verifying until verifyUntil.
func insertRetiredSigningKey(t *testing.T, pool *pgxpool.Pool, key jwt.Key, verifyUntil time.Time) {
	t.Helper()
	der, err := jwt.MarshalPrivate(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, keyID := testKeyring.Seal(der, postgres.SigningKeyPlace(key.KID))
	_, err = pool.Exec(context.Background(), `INSERT INTO custom_gpt_signing_keys (kid, algorithm, private_key, sealed_with, created_at, verify_until)
		VALUES ($1, $2, $3, $4, $5, $6)`, key.KID, key.Algorithm, sealed, keyID, time.Now().Add(-2*time.Hour), verifyUntil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestSigningKeyStoreCurrentCreatesOneKeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)

	// The race is narrow: run it several times on an empty table, with the
	// connections already open so that the callers really overlap.
	const callers, rounds = 8, 10
	var kids []string
	for round := range rounds {
		if _, err := pool.Exec(ctx, `DELETE FROM custom_gpt_signing_keys`); err != nil {
			t.Fatal(err)
		}
		conns := make([]*pgxpool.Conn, callers)
		for i := range conns {
			c, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for _, c := range conns {
			c.Release()
		}

		// One store per goroutine, as if eight processes started at once.
		kids = make([]string, callers)
		failures := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				key, err := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring).Current(ctx)
				kids[i], failures[i] = key.KID, err
			})
		}
		close(start)
		wg.Wait()
		for i := range callers {
			if failures[i] != nil {
				t.Fatalf("round %d, caller %d: %v", round, i, failures[i])
			}
			if kids[i] == "" || kids[i] != kids[0] {
				t.Fatalf("round %d: callers got different keys: %q", round, kids)
			}
		}
		if n := signingKeyCount(t, pool); n != 1 {
			t.Fatalf("round %d: %d keys stored, want 1", round, n)
		}
	}

	// Later calls, from this process or another, keep the key.
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	for range 2 {
		key, err := store.Current(ctx)
		if err != nil || key.KID != kids[0] || key.Algorithm != jwt.ES256 {
			t.Fatalf("current: %v %q %q", err, key.KID, key.Algorithm)
		}
	}
	if n := signingKeyCount(t, pool); n != 1 {
		t.Fatalf("%d keys stored, want 1", n)
	}
}

func TestSigningKeyStoreMakesKeysOfItsAlgorithm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	store := postgres.NewSigningKeyStore(pool, jwt.RS256, testKeyring)
	key, err := store.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if key.Algorithm != jwt.RS256 {
		t.Fatalf("algorithm %q", key.Algorithm)
	}
	var alg string
	if err := pool.QueryRow(ctx, `SELECT algorithm FROM custom_gpt_signing_keys WHERE kid = $1`, key.KID).Scan(&alg); err != nil || alg != jwt.RS256 {
		t.Fatalf("stored algorithm %q: %v", alg, err)
	}
	// Parsed back from the table by another store, the key verifies its tokens.
	if _, err := signingTestVerifier(postgres.NewSigningKeyStore(pool, jwt.RS256, testKeyring)).Verify(ctx, signingTestToken(t, key)); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewSigningKeyStore(pool, "HS256", testKeyring).Rotate(ctx, time.Hour); err == nil {
		t.Fatal("rotated to an HS256 key")
	}
}

func TestSigningKeyStoreRotationKeepsOldTokensVerifying(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	other := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring) // another process
	verifier, otherVerifier := signingTestVerifier(store), signingTestVerifier(other)

	old, err := store.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldToken := signingTestToken(t, old)
	for _, v := range []*jwt.Verifier{verifier, otherVerifier} { // fills both caches
		if _, err := v.Verify(ctx, oldToken); err != nil {
			t.Fatal(err)
		}
	}
	if k, err := store.Current(ctx); err != nil || k.KID != old.KID {
		t.Fatalf("current before rotation: %v %q", err, k.KID)
	}

	before := time.Now()
	rotated, err := store.Rotate(ctx, time.Hour)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if rotated.KID == old.KID {
		t.Fatal("rotation kept the kid")
	}
	current, err := store.Current(ctx)
	if err != nil || current.KID != rotated.KID {
		t.Fatalf("current after rotation: %v %q, want %q", err, current.KID, rotated.KID)
	}
	newToken := signingTestToken(t, current)
	for name, token := range map[string]string{"old": oldToken, "new": newToken} {
		claims, err := verifier.Verify(ctx, token)
		if err != nil || claims.Subject != "user-1" {
			t.Fatalf("%s token after rotation: %v", name, err)
		}
	}

	// The old key verifies for the token lifetime plus the grace, the new one without end.
	var verifyUntil *time.Time
	if err := pool.QueryRow(ctx, `SELECT verify_until FROM custom_gpt_signing_keys WHERE kid = $1`, old.KID).Scan(&verifyUntil); err != nil {
		t.Fatal(err)
	}
	lo, hi := before.Add(time.Hour+postgres.SigningKeyRotationGrace), after.Add(time.Hour+postgres.SigningKeyRotationGrace)
	if verifyUntil == nil || verifyUntil.Before(lo.Truncate(time.Microsecond)) || verifyUntil.After(hi) {
		t.Fatalf("old key verify_until %v, want within [%v, %v]", verifyUntil, lo, hi)
	}
	if err := pool.QueryRow(ctx, `SELECT verify_until FROM custom_gpt_signing_keys WHERE kid = $1`, rotated.KID).Scan(&verifyUntil); err != nil || verifyUntil != nil {
		t.Fatalf("new key verify_until %v: %v", verifyUntil, err)
	}

	// The other process learns the new kid from the token, long before its cache expires.
	signingEventually(t, 10*time.Second, func() bool {
		_, err := otherVerifier.Verify(ctx, newToken)
		return err == nil
	})
	if _, err := otherVerifier.Verify(ctx, oldToken); err != nil {
		t.Fatalf("old token in the other process: %v", err)
	}

	// Once the old key's verify_until has passed, its tokens are refused.
	if _, err := pool.Exec(ctx, `UPDATE custom_gpt_signing_keys SET verify_until = now() - interval '1 second' WHERE kid = $1`, old.KID); err != nil {
		t.Fatal(err)
	}
	later := signingTestVerifier(postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring))
	wantUnknownKID(t, later, oldToken)
	if _, err := later.Verify(ctx, newToken); err != nil {
		t.Fatalf("new token: %v", err)
	}
}

func TestSigningKeyStoreRefusesKeysPastVerifyUntil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	current, err := store.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	insertRetiredSigningKey(t, pool, expired, time.Now().Add(-time.Minute))
	expiring, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	insertRetiredSigningKey(t, pool, expiring, time.Now().Add(2*time.Second))

	v := signingTestVerifier(store)
	wantUnknownKID(t, v, signingTestToken(t, expired))
	if _, err := store.VerificationKey(ctx, expired.KID); errs.KindOf(err) != errs.KindNotFound || !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("verification key of an expired key: %v", err)
	}

	// A key cached while it still verifies stops verifying when its time is up.
	expiringToken := signingTestToken(t, expiring)
	if _, err := v.Verify(ctx, expiringToken); err != nil {
		t.Fatalf("before verify_until: %v", err)
	}
	signingEventually(t, 10*time.Second, func() bool {
		_, err := v.Verify(ctx, expiringToken)
		var invalid *jwt.InvalidTokenError
		return errors.As(err, &invalid) && invalid.Reason == jwt.ReasonUnknownKID
	})
	if _, err := v.Verify(ctx, signingTestToken(t, current)); err != nil {
		t.Fatalf("current key: %v", err)
	}
	keys, err := store.PublicKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].KeyID != current.KID {
		t.Fatalf("public keys: %v %+v", err, keys)
	}

	// Rotation deletes the keys whose time is up.
	if _, err := store.Rotate(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_signing_keys WHERE kid = ANY($1)`, []string{expired.KID, expiring.KID}).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d expired keys left: %v", n, err)
	}
	if n := signingKeyCount(t, pool); n != 2 {
		t.Fatalf("%d keys, want the current and the retired one", n)
	}
}

func TestSigningKeyStoreUnknownKID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	if _, err := store.Current(ctx); err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{"", "no-such-kid"} {
		jwk, err := store.VerificationKey(ctx, kid)
		if jwk != nil || errs.KindOf(err) != errs.KindNotFound || !errors.Is(err, jwt.ErrKeyNotFound) {
			t.Fatalf("kid %q: %v %v", kid, jwk, err)
		}
	}
	stranger, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	wantUnknownKID(t, signingTestVerifier(store), signingTestToken(t, stranger))
	if _, err := store.Rotate(ctx, 0); err == nil {
		t.Fatal("rotated with a zero token lifetime")
	}
}

func TestSigningKeyStorePublicKeysAreOnlyPublic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	es := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	if keys, err := es.PublicKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("before any key: %v %+v", err, keys)
	}
	first, err := es.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Same table, a store of the other algorithm rotates: both keys are published.
	second, err := postgres.NewSigningKeyStore(pool, jwt.RS256, testKeyring).Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring).PublicKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KeyID != second.KID || keys[1].KeyID != first.KID {
		t.Fatalf("want [%s %s], got %+v", second.KID, first.KID, keys)
	}
	for i, want := range []string{jwt.RS256, jwt.ES256} {
		k := keys[i]
		if !k.IsPublic() || !k.Valid() || k.Use != "sig" || k.Algorithm != want {
			t.Fatalf("key %d: public %v use %q alg %q", i, k.IsPublic(), k.Use, k.Algorithm)
		}
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := fields[private]; ok {
				t.Fatalf("JWKS entry has %q: %s", private, b)
			}
		}
	}
}
