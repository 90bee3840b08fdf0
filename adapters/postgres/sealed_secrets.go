package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
)

// ErrPlaintextSecret means a secret is stored unencrypted, as before
// migration 00013; SealedSecrets.EncryptPlaintext encrypts it.
var ErrPlaintextSecret = errors.New("stored in plain text; start the service or run `keys rewrap` to encrypt it")

// UnknownKeysError lists key ids that sealed stored secrets but that the
// keyring does not hold.
type UnknownKeysError struct{ KeyIDs []string }

func (e *UnknownKeysError) Error() string {
	return fmt.Sprintf("stored secrets are sealed with key id(s) %q, which this process does not hold", e.KeyIDs)
}

// SealedSecrets looks after every secret stored sealed: token signing keys
// and webhook signing secrets.
type SealedSecrets struct {
	pool    *pgxpool.Pool
	keyring *secrets.Keyring
}

func NewSealedSecrets(pool *pgxpool.Pool, keyring *secrets.Keyring) *SealedSecrets {
	return &SealedSecrets{pool: pool, keyring: keyring}
}

// Check returns an *UnknownKeysError when a stored secret was sealed with a
// key the keyring does not hold: a process started with the wrong key stops
// at once instead of failing every token and webhook.
func (s *SealedSecrets) Check(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT sealed_with FROM custom_gpt_signing_keys WHERE sealed_with IS NOT NULL
		UNION SELECT sealed_with FROM custom_gpt_webhook_endpoints WHERE sealed_with IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("check sealed secrets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check sealed secrets: %w", err)
	}
	unknown := slices.DeleteFunc(ids, s.keyring.Holds)
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return &UnknownKeysError{KeyIDs: unknown}
	}
	return nil
}

// RewrapResult counts what a rewrap did to each stored row.
type RewrapResult struct {
	KeyID     string `json:"key_id"`    // the key every secret is now sealed with
	Rewrapped int    `json:"rewrapped"` // rows moved from the previous key
	Encrypted int    `json:"encrypted"` // rows that were plain text
	Unchanged int    `json:"unchanged"` // rows already under the current key
}

// EncryptPlaintext seals every secret still stored in plain text (from before
// migration 00013) with the current key and returns how many rows it sealed.
// Processes starting together do it once: each row is locked and re-checked.
func (s *SealedSecrets) EncryptPlaintext(ctx context.Context) (int, error) {
	res, err := s.rewrap(ctx, true)
	return res.Encrypted, err
}

// Rewrap seals every stored secret with the keyring's current key, in one
// transaction: values under the previous key are opened and sealed again,
// plain text is sealed, values already under the current key are left as
// they are, so running it again, or after a crash, is safe. A value sealed
// with a key the keyring does not hold fails the whole rewrap.
func (s *SealedSecrets) Rewrap(ctx context.Context) (RewrapResult, error) {
	return s.rewrap(ctx, false)
}

func (s *SealedSecrets) rewrap(ctx context.Context, plaintextOnly bool) (RewrapResult, error) {
	var res RewrapResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = RewrapResult{KeyID: s.keyring.CurrentID()}
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		if err := s.rewrapSigningKeys(ctx, tx, plaintextOnly, &res); err != nil {
			return err
		}
		return s.rewrapWebhookSecrets(ctx, tx, plaintextOnly, &res)
	})
	if err != nil {
		return RewrapResult{}, fmt.Errorf("rewrap secrets: %w", err)
	}
	return res, nil
}

// selectSealed is the query of the rows a rewrap looks at, locked.
func selectSealed(columns, table string, plaintextOnly bool) string {
	q := `SELECT ` + columns + ` FROM ` + table
	if plaintextOnly {
		q += ` WHERE sealed_with IS NULL`
	}
	return q + ` ORDER BY 1 FOR UPDATE`
}

// reseal returns value sealed with the current key for place; sealedWith nil
// means value is plain text.
func (s *SealedSecrets) reseal(value []byte, sealedWith *string, place string) ([]byte, error) {
	plain := value
	if sealedWith != nil {
		var err error
		if plain, err = s.keyring.Open(value, *sealedWith, place); err != nil {
			return nil, fmt.Errorf("%s: %w", place, err)
		}
	}
	sealed, _ := s.keyring.Seal(plain, place)
	return sealed, nil
}

func (s *SealedSecrets) rewrapSigningKeys(ctx context.Context, tx pgx.Tx, plaintextOnly bool, res *RewrapResult) error {
	rows, err := tx.Query(ctx, selectSealed(`kid, private_key, sealed_with`, `custom_gpt_signing_keys`, plaintextOnly))
	if err != nil {
		return err
	}
	type row struct {
		kid        string
		key        []byte
		sealedWith *string
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var k row
		return k, r.Scan(&k.kid, &k.key, &k.sealedWith)
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !count(k.sealedWith, s.keyring.CurrentID(), res) {
			continue
		}
		sealed, err := s.reseal(k.key, k.sealedWith, signingKeyPlace(k.kid))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_signing_keys SET private_key = $2, sealed_with = $3 WHERE kid = $1`,
			k.kid, sealed, s.keyring.CurrentID()); err != nil {
			return err
		}
	}
	return nil
}

func (s *SealedSecrets) rewrapWebhookSecrets(ctx context.Context, tx pgx.Tx, plaintextOnly bool, res *RewrapResult) error {
	rows, err := tx.Query(ctx, selectSealed(`id, secret, previous_secret, sealed_with`, `custom_gpt_webhook_endpoints`, plaintextOnly))
	if err != nil {
		return err
	}
	type row struct {
		id, secret           string
		previous, sealedWith *string
	}
	endpoints, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var e row
		return e, r.Scan(&e.id, &e.secret, &e.previous, &e.sealedWith)
	})
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		if !count(e.sealedWith, s.keyring.CurrentID(), res) {
			continue
		}
		// Plain text is the whsec_ form itself; a sealed value its base64.
		value := func(stored, column string) (string, error) {
			raw := []byte(stored)
			if e.sealedWith != nil {
				var err error
				if raw, err = base64.StdEncoding.DecodeString(stored); err != nil {
					return "", fmt.Errorf("%s: %w", webhookSecretPlace(column, e.id), secrets.ErrOpen)
				}
			}
			sealed, err := s.reseal(raw, e.sealedWith, webhookSecretPlace(column, e.id))
			return base64.StdEncoding.EncodeToString(sealed), err
		}
		secret, err := value(e.secret, "secret")
		if err != nil {
			return err
		}
		var previous *string
		if e.previous != nil {
			p, err := value(*e.previous, "previous_secret")
			if err != nil {
				return err
			}
			previous = &p
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_webhook_endpoints SET secret = $2, previous_secret = $3, sealed_with = $4 WHERE id = $1`,
			e.id, secret, previous, s.keyring.CurrentID()); err != nil {
			return err
		}
	}
	return nil
}

// count tallies a row by how it is stored and reports whether it needs
// sealing again.
func count(sealedWith *string, current string, res *RewrapResult) bool {
	switch {
	case sealedWith == nil:
		res.Encrypted++
	case *sealedWith == current:
		res.Unchanged++
		return false
	default:
		res.Rewrapped++
	}
	return true
}
