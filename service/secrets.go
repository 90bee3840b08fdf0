package service

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
)

// openKeyring builds the keyring from the configuration; a process without a
// key stops here, before it connects to anything.
func openKeyring(cfg Config, log *slog.Logger) (*secrets.Keyring, error) {
	keyring, development, err := cfg.Secrets.Keyring()
	if err != nil {
		return nil, err
	}
	if development {
		log.Warn(envSecretsKey+" is unset and "+envInsecureDev+"=true: token signing keys and webhook secrets are "+
			"encrypted with a fixed development key anyone can read in the source; never do this with real users",
			"key_id", keyring.CurrentID())
	}
	return keyring, nil
}

// prepareSecrets runs once the database is open: it refuses secrets sealed
// with a key this process lacks, and encrypts those an earlier version kept in
// plain text, so none stays so unnoticed.
func prepareSecrets(ctx context.Context, pool *pgxpool.Pool, keyring *secrets.Keyring, log *slog.Logger) error {
	sealed := postgres.NewSealedSecrets(pool, keyring)
	var unknown *postgres.UnknownKeysError
	if err := sealed.Check(ctx); errors.As(err, &unknown) {
		msg := fmt.Sprintf("%s: the token signing keys or webhook secrets in the database are sealed with key id %v, "+
			"which neither %s (key id %s) nor %s opens: set %s to the key that sealed them, then run `custom-gpt-adapter keys rewrap`",
			envSecretsKey, unknown.KeyIDs, envSecretsKey, keyring.CurrentID(), envSecretsKeyOld, envSecretsKeyOld)
		if slices.Contains(unknown.KeyIDs, secrets.DevelopmentKeyID) {
			msg += fmt.Sprintf(" (%s is the development key: %s=%s)", secrets.DevelopmentKeyID, envSecretsKeyOld,
				base64.StdEncoding.EncodeToString(secrets.DevelopmentKey()))
		}
		return errors.New(msg)
	} else if err != nil {
		return err
	}
	n, err := sealed.EncryptPlaintext(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Warn("encrypted token signing keys and webhook secrets an earlier version stored in plain text; "+
			"backups from before still hold them: if those may leak, run `keys rotate` and `apps rotate-webhook-secret`",
			"rows", n, "key_id", keyring.CurrentID())
	}
	return nil
}

// RewrapSecrets seals every stored secret with CUSTOM_GPT_SECRETS_KEY,
// opening those under CUSTOM_GPT_SECRETS_KEY_OLD, in one transaction.
func (s *Service) RewrapSecrets(ctx context.Context) (postgres.RewrapResult, error) {
	return postgres.NewSealedSecrets(s.infra.Pool, s.infra.Keyring).Rewrap(ctx)
}
