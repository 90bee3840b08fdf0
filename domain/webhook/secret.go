package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// SecretPrefix marks a Standard Webhooks signing secret; what follows is the
// standard base64 of the key.
const SecretPrefix = "whsec_"

const (
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// Secret is an endpoint's signing key. Unlike API keys it is not hashed:
// signing needs the key itself (it is stored encrypted instead).
type Secret struct{ key []byte }

// NewSecret returns a fresh random secret.
func NewSecret() Secret {
	key := make([]byte, secretBytes)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return Secret{key: key}
}

// ParseSecret reads a secret in its whsec_<base64> form.
func ParseSecret(s string) (Secret, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if !strings.HasPrefix(s, SecretPrefix) || err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return Secret{}, errs.Invalid("secret", "webhook-secret-invalid", "a webhook secret is whsec_ followed by the base64 of 24 to 64 bytes")
	}
	return Secret{key: key}, nil
}

// Reveal is the secret's whsec_ form, for storage and for showing it once.
func (s Secret) Reveal() string {
	if s.IsZero() {
		return ""
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(s.key)
}

// String never shows the key, so a secret logged by mistake leaks nothing.
func (s Secret) String() string { return SecretPrefix + "<redacted>" }

func (s Secret) IsZero() bool { return len(s.key) == 0 }

// Sign is the Standard Webhooks signature of one message: "v1," and the base64
// HMAC-SHA256, keyed with the secret's bytes, of "<id>.<unix timestamp>.<body>".
func (s Secret) Sign(id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignatureHeader is the webhook-signature header: one signature per secret,
// separated by spaces, so receivers holding either secret verify it during a
// rotation.
func SignatureHeader(secrets []Secret, id string, timestamp time.Time, body []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, s.Sign(id, timestamp, body))
	}
	return strings.Join(sigs, " ")
}
