package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

const (
	// signingKeyCacheTTL bounds how long a process signs with a key another
	// process has rotated away, and how long it keeps a key another process
	// has removed.
	signingKeyCacheTTL = 30 * time.Second
	// signingKeyMissReload is the least time between reloads caused by an
	// unknown kid: a new key made by another process is found at once, while
	// tokens with made-up kids cost at most one query per interval.
	signingKeyMissReload = time.Second
	// signingKeyClockMargin covers the verifiers' leeway and clocks of
	// processes that disagree.
	signingKeyClockMargin = 2 * time.Minute
)

// SigningKeyRotationGrace is added to the token lifetime when a rotation sets
// the old key's verify_until: other processes may sign with the old key until
// their cache expires, and clocks differ.
const SigningKeyRotationGrace = signingKeyCacheTTL + signingKeyClockMargin

// SigningKeyStore keeps the keys that sign access tokens in
// custom_gpt_signing_keys. The current key is the newest one without a
// verify_until; older keys verify until their verify_until. Private keys are
// stored as PKCS#8 DER, not encrypted.
//
// Keys are cached for signingKeyCacheTTL because verification runs on every
// request; changes made through this store are visible to it at once.
type SigningKeyStore struct {
	pool    *pgxpool.Pool
	alg     string
	keyring *secrets.Keyring
	now     func() time.Time

	snap atomic.Pointer[signingKeySnapshot] // readers never block
	// writing serializes loads and changes of this store; a channel so that
	// waiters can give up when their context ends.
	writing chan struct{}
}

type storedSigningKey struct {
	key         jwt.Key
	verifyUntil time.Time // zero for the current key
}

// signingKeySnapshot is the immutable result of one load.
type signingKeySnapshot struct {
	loadedAt time.Time
	current  *storedSigningKey
	keys     []*storedSigningKey // newest first
	byKID    map[string]*storedSigningKey
}

// NewSigningKeyStore returns a store that makes alg keys (ES256 when empty).
// Keys already stored keep their own algorithm. Private keys are sealed with
// keyring's current key and opened with any key it holds.
func NewSigningKeyStore(pool *pgxpool.Pool, alg string, keyring *secrets.Keyring) *SigningKeyStore {
	if alg == "" {
		alg = jwt.ES256
	}
	return &SigningKeyStore{pool: pool, alg: alg, keyring: keyring, now: time.Now, writing: make(chan struct{}, 1)}
}

// Current returns the key to sign with, making the first one if there is none.
// Concurrent callers, in any number of processes, end up with one key.
func (s *SigningKeyStore) Current(ctx context.Context) (jwt.Key, error) {
	snap, err := s.snapshot(ctx, "")
	if err != nil {
		return jwt.Key{}, err
	}
	if snap.current != nil {
		return snap.current.key, nil
	}
	if err := s.lock(ctx); err != nil {
		return jwt.Key{}, err
	}
	defer s.unlock()
	var key jwt.Key
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		// The table, not this process, is the authority: another caller may
		// have made the key while we waited for the lock.
		found, err := s.scanSigningKey(tx.QueryRow(ctx, `SELECT `+signingKeyColumns+`
			FROM custom_gpt_signing_keys WHERE verify_until IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1`))
		if err == nil {
			key = found.key
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if key, err = jwt.GenerateKey(s.alg); err != nil {
			return err
		}
		return s.insertSigningKey(ctx, tx, key, s.now())
	})
	if err != nil {
		return jwt.Key{}, fmt.Errorf("create first signing key: %w", err)
	}
	s.snap.Store(nil)
	return key, nil
}

// Rotate makes a new current key. The previous current key keeps verifying
// for tokenLifetime plus SigningKeyRotationGrace, so that every token it
// signed verifies until it expires. Keys past their verify_until are deleted.
func (s *SigningKeyStore) Rotate(ctx context.Context, tokenLifetime time.Duration) (jwt.Key, error) {
	if tokenLifetime <= 0 {
		return jwt.Key{}, fmt.Errorf("rotate signing key: token lifetime %s is not positive", tokenLifetime)
	}
	key, err := jwt.GenerateKey(s.alg) // before any lock: RSA keys take a while
	if err != nil {
		return jwt.Key{}, fmt.Errorf("rotate signing key: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return jwt.Key{}, err
	}
	defer s.unlock()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `DELETE FROM custom_gpt_signing_keys WHERE verify_until <= $1`, now); err != nil {
			return fmt.Errorf("delete expired signing keys: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_signing_keys SET verify_until = $1 WHERE verify_until IS NULL`,
			now.Add(tokenLifetime+SigningKeyRotationGrace)); err != nil {
			return fmt.Errorf("retire current signing key: %w", err)
		}
		return s.insertSigningKey(ctx, tx, key, now)
	})
	// Dropped even on failure: the commit may have happened all the same.
	s.snap.Store(nil)
	if err != nil {
		return jwt.Key{}, fmt.Errorf("rotate signing key: %w", err)
	}
	return key, nil
}

// VerificationKey returns the public key of kid when it is current or its
// verify_until is ahead; otherwise a NotFound error wrapping jwt.ErrKeyNotFound.
func (s *SigningKeyStore) VerificationKey(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	notFound := &errs.Error{Kind: errs.KindNotFound, Slug: "signing-key-not-found", Detail: "no signing key of this kid verifies", Err: jwt.ErrKeyNotFound}
	if kid == "" {
		return nil, notFound
	}
	snap, err := s.snapshot(ctx, kid)
	if err != nil {
		return nil, err
	}
	k, ok := snap.byKID[kid]
	if !ok || !k.verifies(s.now()) {
		return nil, notFound
	}
	pub := k.key.PublicJWK()
	return &pub, nil
}

// PublicKeys returns the JWKS: the public halves of the current key and of the
// keys that still verify, newest first.
func (s *SigningKeyStore) PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	snap, err := s.snapshot(ctx, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	keys := make([]jose.JSONWebKey, 0, len(snap.keys))
	for _, k := range snap.keys {
		if k.verifies(now) {
			keys = append(keys, k.key.PublicJWK())
		}
	}
	return keys, nil
}

func (k *storedSigningKey) verifies(now time.Time) bool {
	return k.verifyUntil.IsZero() || k.verifyUntil.After(now)
}

// snapshot returns cached keys, loading them when the cache is stale or, at
// most every signingKeyMissReload, when it lacks kid.
func (s *SigningKeyStore) snapshot(ctx context.Context, kid string) (*signingKeySnapshot, error) {
	usable := func(snap *signingKeySnapshot, now time.Time) bool {
		if snap == nil || now.Sub(snap.loadedAt) >= signingKeyCacheTTL {
			return false
		}
		_, known := snap.byKID[kid]
		return kid == "" || known || now.Sub(snap.loadedAt) < signingKeyMissReload
	}
	if snap := s.snap.Load(); usable(snap, s.now()) {
		return snap, nil
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	if snap := s.snap.Load(); usable(snap, s.now()) {
		return snap, nil // loaded by the caller we waited for
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.snap.Store(snap)
	return snap, nil
}

func (s *SigningKeyStore) load(ctx context.Context) (*signingKeySnapshot, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `SELECT `+signingKeyColumns+`
		FROM custom_gpt_signing_keys WHERE verify_until IS NULL OR verify_until > $1
		ORDER BY created_at DESC, kid DESC`, now)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	defer rows.Close()
	snap := &signingKeySnapshot{loadedAt: now, byKID: map[string]*storedSigningKey{}}
	for rows.Next() {
		k, err := s.scanSigningKey(rows)
		if err != nil {
			return nil, fmt.Errorf("load signing keys: %w", err)
		}
		if snap.current == nil && k.verifyUntil.IsZero() {
			snap.current = k
		}
		snap.keys = append(snap.keys, k)
		snap.byKID[k.key.KID] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return snap, nil
}

func (s *SigningKeyStore) lock(ctx context.Context) error {
	select {
	case s.writing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *SigningKeyStore) unlock() { <-s.writing }

// lockSigningKeys serializes changes of the key table across processes until
// the transaction ends.
func lockSigningKeys(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('custom_gpt_signing_keys', 0))`); err != nil {
		return fmt.Errorf("lock signing keys: %w", err)
	}
	return nil
}

const signingKeyColumns = `kid, algorithm, private_key, sealed_with, created_at, verify_until`

// signingKeyPlace is what a private key is sealed for: its row, so a sealed
// key copied to another kid does not open.
func signingKeyPlace(kid string) string { return "custom_gpt_signing_keys.private_key:" + kid }

func (s *SigningKeyStore) insertSigningKey(ctx context.Context, tx pgx.Tx, key jwt.Key, now time.Time) error {
	der, err := jwt.MarshalPrivate(key)
	if err != nil {
		return err
	}
	sealed, keyID := s.keyring.Seal(der, signingKeyPlace(key.KID))
	_, err = tx.Exec(ctx, `INSERT INTO custom_gpt_signing_keys (kid, algorithm, private_key, sealed_with, created_at, verify_until)
		VALUES ($1, $2, $3, $4, $5, NULL)`, key.KID, key.Algorithm, sealed, keyID, now)
	if err != nil {
		return fmt.Errorf("insert signing key: %w", err)
	}
	return nil
}

func (s *SigningKeyStore) scanSigningKey(row pgx.Row) (*storedSigningKey, error) {
	var (
		kid, alg    string
		sealed      []byte
		sealedWith  *string
		createdAt   time.Time
		verifyUntil pgtime
	)
	if err := row.Scan(&kid, &alg, &sealed, &sealedWith, &createdAt, &verifyUntil); err != nil {
		return nil, err
	}
	if sealedWith == nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, ErrPlaintextSecret)
	}
	der, err := s.keyring.Open(sealed, *sealedWith, signingKeyPlace(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, err)
	}
	key, err := jwt.ParsePrivate(kid, alg, der)
	if err != nil {
		return nil, err
	}
	return &storedSigningKey{key: key, verifyUntil: verifyUntil.t()}, nil
}
