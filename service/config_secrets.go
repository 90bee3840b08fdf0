package service

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
)

// Variables of the key that encrypts the secrets kept in Postgres.
const (
	envSecretsKey    = "CUSTOM_GPT_SECRETS_KEY"
	envSecretsKeyOld = "CUSTOM_GPT_SECRETS_KEY_OLD"
	envInsecureDev   = "CUSTOM_GPT_INSECURE_DEV"
)

// Secrets holds the key-encryption keys of the token signing keys and webhook
// secrets stored in Postgres.
type Secrets struct {
	// Key seals new values and opens those it sealed; nil when unset.
	Key []byte
	// OldKey only opens values, those `keys rewrap` has not moved to Key yet.
	OldKey []byte
	// InsecureDev lets a process without Key use the fixed development key.
	InsecureDev bool
}

func loadSecrets(p *parser) Secrets {
	return Secrets{
		Key:         p.encryptionKey(envSecretsKey),
		OldKey:      p.encryptionKey(envSecretsKeyOld),
		InsecureDev: p.boolean(envInsecureDev, false),
	}
}

// encryptionKey reads a key of secrets.KeySize bytes in standard base64. The
// message never repeats the value: it is a key.
func (p *parser) encryptionKey(name string) []byte {
	v := p.str(name, "")
	if v == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	switch {
	case err != nil:
		p.fail(name, fmt.Sprintf("must be %d random bytes in standard base64 (openssl rand -base64 %d); it is not base64", secrets.KeySize, secrets.KeySize))
		return nil
	case len(b) != secrets.KeySize:
		p.fail(name, fmt.Sprintf("must be %d random bytes in standard base64 (openssl rand -base64 %d); it decodes to %d bytes", secrets.KeySize, secrets.KeySize, len(b)))
		return nil
	}
	return b
}

// ErrNoSecretsKey is the refusal to start without CUSTOM_GPT_SECRETS_KEY.
var ErrNoSecretsKey = errors.New(envSecretsKey + ": is required: 32 random bytes in standard base64 (openssl rand -base64 32) " +
	"that encrypt the token signing keys and webhook secrets kept in the database; for local development only, " +
	envInsecureDev + "=true uses a fixed, public development key instead")

// Keyring returns the keys that seal and open the stored secrets, and whether
// it is the development key. Without Key it is ErrNoSecretsKey, unless
// InsecureDev.
func (s Secrets) Keyring() (keyring *secrets.Keyring, development bool, err error) {
	key := s.Key
	if key == nil {
		if !s.InsecureDev {
			return nil, false, ErrNoSecretsKey
		}
		key, development = secrets.DevelopmentKey(), true
	}
	keyring, err = secrets.NewKeyring(key, s.OldKey)
	return keyring, development, err
}
