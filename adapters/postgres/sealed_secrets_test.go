package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// testKeyring seals the secrets of every store in this package's tests.
var testKeyring = newTestKeyring(nil)

func randomKey() []byte {
	b := make([]byte, secrets.KeySize)
	_, _ = rand.Read(b)
	return b
}

func newTestKeyring(previous []byte, current ...[]byte) *secrets.Keyring {
	cur := randomKey()
	if len(current) > 0 {
		cur = current[0]
	}
	k, err := secrets.NewKeyring(cur, previous)
	if err != nil {
		panic(err)
	}
	return k
}

func addTestApp(t *testing.T, pool *pgxpool.Pool, id string) {
	t.Helper()
	_, hash := application.NewAPIKey()
	app, err := application.New(id, "App "+id, hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewApplicationRepository(pool).Add(context.Background(), app); err != nil {
		t.Fatal(err)
	}
}

// saveTestEndpoint registers an endpoint for appID and, with overlap, rotates
// its secret so the row holds a previous secret too.
func saveTestEndpoint(t *testing.T, repo *postgres.WebhookRepository, appID, id string, overlap time.Duration) *webhook.Endpoint {
	t.Helper()
	var e *webhook.Endpoint
	err := repo.SaveEndpoint(context.Background(), appID, func(*webhook.Endpoint) (*webhook.Endpoint, error) {
		var err error
		e, err = webhook.NewEndpoint(id, appID, "https://hooks.example.com/"+id, webhook.NewSecret(), webhook.URLPolicy{}, time.Now())
		if err == nil && overlap > 0 {
			err = e.RotateSecret(webhook.NewSecret(), overlap, time.Now())
		}
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A sealed private key copied over another key's row (by someone who can
// write to the database but does not hold the key) does not open there.
func TestSealedSigningKeyDoesNotOpenInAnotherRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring)
	first, err := store.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE custom_gpt_signing_keys SET private_key = (SELECT private_key FROM custom_gpt_signing_keys WHERE kid = $1)
		WHERE kid = $2`, first.KID, second.KID); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewSigningKeyStore(pool, jwt.ES256, testKeyring).Current(ctx); !errors.Is(err, secrets.ErrOpen) {
		t.Fatalf("the current key with another row's ciphertext: %v, want %v", err, secrets.ErrOpen)
	}
}

// Webhook secrets are bound to their endpoint and column: copied to another
// endpoint, or swapped with the previous secret, they do not open.
func TestSealedWebhookSecretDoesNotOpenElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	addTestApp(t, pool, "app-a")
	addTestApp(t, pool, "app-b")
	repo := postgres.NewWebhookRepository(pool, testKeyring)
	saveTestEndpoint(t, repo, "app-a", "ep-a", 24*time.Hour)
	saveTestEndpoint(t, repo, "app-b", "ep-b", 0)
	for _, ep := range []string{"app-a", "app-b"} {
		if _, err := repo.Endpoint(ctx, ep); err != nil {
			t.Fatalf("%s before: %v", ep, err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE custom_gpt_webhook_endpoints SET secret = (SELECT secret FROM custom_gpt_webhook_endpoints WHERE id = 'ep-a')
		WHERE id = 'ep-b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Endpoint(ctx, "app-b"); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("app-b with app-a's secret: %v, want %v", err, secrets.ErrOpen)
	}
	if _, err := pool.Exec(ctx, `UPDATE custom_gpt_webhook_endpoints SET secret = previous_secret, previous_secret = secret WHERE id = 'ep-a'`); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Endpoint(ctx, "app-a"); !errors.Is(err, secrets.ErrOpen) {
		t.Errorf("app-a with its secrets swapped: %v, want %v", err, secrets.ErrOpen)
	}
}

// Rewrap moves every secret to the new key in one go, idempotently; what it
// rewrapped is the same key material, readable with the new key alone.
func TestRewrapSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	oldKey, newKey := randomKey(), randomKey()
	old := newTestKeyring(nil, oldKey)
	store := postgres.NewSigningKeyStore(pool, jwt.ES256, old)
	retired, err := store.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	current, err := store.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	addTestApp(t, pool, "app-a")
	ep := saveTestEndpoint(t, postgres.NewWebhookRepository(pool, old), "app-a", "ep-a", 24*time.Hour)
	token := signingTestToken(t, retired)

	// A keyring that holds neither key changes nothing.
	stranger := newTestKeyring(nil)
	var unknown *postgres.UnknownKeysError
	if err := postgres.NewSealedSecrets(pool, stranger).Check(ctx); !errors.As(err, &unknown) || len(unknown.KeyIDs) != 1 || unknown.KeyIDs[0] != old.CurrentID() {
		t.Fatalf("check with a stranger's key: %v", err)
	}
	if _, err := postgres.NewSealedSecrets(pool, stranger).Rewrap(ctx); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Fatalf("rewrap without the old key: %v", err)
	}

	both := newTestKeyring(oldKey, newKey)
	// One value it cannot open fails the whole rewrap: the signing keys it
	// went through first stay as they were.
	addTestApp(t, pool, "app-b")
	saveTestEndpoint(t, postgres.NewWebhookRepository(pool, stranger), "app-b", "ep-b", 0)
	if _, err := postgres.NewSealedSecrets(pool, both).Rewrap(ctx); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Fatalf("rewrap with a value under a third key: %v", err)
	}
	var underOld int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM custom_gpt_signing_keys WHERE sealed_with = $1`, old.CurrentID()).Scan(&underOld); err != nil || underOld != 2 {
		t.Fatalf("%d of 2 signing keys still under the old key after a failed rewrap: %v", underOld, err)
	}
	if err := postgres.NewWebhookRepository(pool, stranger).RemoveEndpoint(ctx, "app-b"); err != nil {
		t.Fatal(err)
	}

	res, err := postgres.NewSealedSecrets(pool, both).Rewrap(ctx)
	if err != nil || res != (postgres.RewrapResult{KeyID: both.CurrentID(), Rewrapped: 3}) {
		t.Fatalf("rewrap: %+v %v", res, err)
	}
	res, err = postgres.NewSealedSecrets(pool, both).Rewrap(ctx)
	if err != nil || res != (postgres.RewrapResult{KeyID: both.CurrentID(), Unchanged: 3}) {
		t.Fatalf("second rewrap: %+v %v", res, err)
	}

	onlyNew := newTestKeyring(nil, newKey)
	if err := postgres.NewSealedSecrets(pool, onlyNew).Check(ctx); err != nil {
		t.Fatalf("check with the new key: %v", err)
	}
	if err := postgres.NewSealedSecrets(pool, newTestKeyring(nil, oldKey)).Check(ctx); !errors.As(err, &unknown) {
		t.Fatalf("check with the old key after the rewrap: %v", err)
	}
	after := postgres.NewSigningKeyStore(pool, jwt.ES256, onlyNew)
	if got, err := after.Current(ctx); err != nil || got.KID != current.KID {
		t.Fatalf("current key after the rewrap: %v %v", got.KID, err)
	}
	if _, err := signingTestVerifier(after).Verify(ctx, token); err != nil {
		t.Errorf("a token signed before the rewrap: %v", err)
	}
	got, err := postgres.NewWebhookRepository(pool, onlyNew).Endpoint(ctx, "app-a")
	if err != nil || got.Secret().Reveal() != ep.Secret().Reveal() || got.PreviousSecret().Reveal() != ep.PreviousSecret().Reveal() {
		t.Fatalf("webhook secrets after the rewrap differ: %v", err)
	}
}

// A database from before migration 00013 keeps its secrets in plain text:
// readers refuse them until EncryptPlaintext seals them, once.
func TestEncryptPlaintextSecretsFromBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, pgtest.NewURL(t), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.MigrateTo(ctx, pool, 12); err != nil {
		t.Fatal(err)
	}
	key, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := jwt.MarshalPrivate(key)
	secret, previous := webhook.NewSecret(), webhook.NewSecret()
	// The schema of migration 12 is older than the repository: insert the
	// application with the columns it had then.
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_applications (id, name, status, key_hash, created_at, updated_at)
		VALUES ('app-a', 'App app-a', 'active', $1, now(), now())`, []byte("key-hash-of-app-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_signing_keys (kid, algorithm, private_key, created_at) VALUES ($1, $2, $3, now())`,
		key.KID, key.Algorithm, der); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_webhook_endpoints (id, app_id, url, secret, previous_secret, previous_expires_at, status, created_at, updated_at)
		VALUES ('ep-a', 'app-a', 'https://hooks.example.com/', $1, $2, now() + interval '1 day', 'active', now(), now())`,
		secret.Reveal(), previous.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	keyring := newTestKeyring(nil)
	if _, err := postgres.NewSigningKeyStore(pool, jwt.ES256, keyring).Current(ctx); !errors.Is(err, postgres.ErrPlaintextSecret) {
		t.Errorf("a plain-text signing key was read: %v", err)
	}
	if _, err := postgres.NewWebhookRepository(pool, keyring).Endpoint(ctx, "app-a"); !errors.Is(err, postgres.ErrPlaintextSecret) {
		t.Errorf("a plain-text webhook secret was read: %v", err)
	}

	sealed := postgres.NewSealedSecrets(pool, keyring)
	if n, err := sealed.EncryptPlaintext(ctx); err != nil || n != 2 {
		t.Fatalf("encrypt plain text: %d rows, %v; want 2", n, err)
	}
	if n, err := sealed.EncryptPlaintext(ctx); err != nil || n != 0 {
		t.Fatalf("encrypt plain text again: %d rows, %v; want 0", n, err)
	}
	var storedKey []byte
	var storedSecret, storedPrevious string
	if err := pool.QueryRow(ctx, `SELECT k.private_key, e.secret, e.previous_secret FROM custom_gpt_signing_keys k, custom_gpt_webhook_endpoints e`).
		Scan(&storedKey, &storedSecret, &storedPrevious); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(storedKey, der) || storedSecret == secret.Reveal() || storedPrevious == previous.Reveal() {
		t.Fatal("still plain text after encrypting")
	}
	got, err := postgres.NewSigningKeyStore(pool, jwt.ES256, keyring).Current(ctx)
	if err != nil || got.KID != key.KID {
		t.Fatalf("the encrypted key: %v %v", got.KID, err)
	}
	if _, err := signingTestVerifier(postgres.NewSigningKeyStore(pool, jwt.ES256, keyring)).Verify(ctx, signingTestToken(t, key)); err != nil {
		t.Errorf("a token of the key from before: %v", err)
	}
	e, err := postgres.NewWebhookRepository(pool, keyring).Endpoint(ctx, "app-a")
	if err != nil || e.Secret().Reveal() != secret.Reveal() || e.PreviousSecret().Reveal() != previous.Reveal() {
		t.Fatalf("the encrypted webhook secrets: %v", err)
	}
}
