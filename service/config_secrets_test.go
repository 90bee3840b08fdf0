package service_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

func secretsKey(n int) (string, []byte) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b), b
}

func TestLoadConfig_secrets(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (service.Config, error) {
		return service.LoadConfig(func(k string) string { return env[k] })
	}
	// No key: the configuration loads (migrate and healthcheck need none),
	// but there is no keyring, and the refusal names both variables.
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Secrets.Keyring(); !errors.Is(err, service.ErrNoSecretsKey) ||
		!strings.HasPrefix(err.Error(), "CUSTOM_GPT_SECRETS_KEY: ") || !strings.Contains(err.Error(), "CUSTOM_GPT_INSECURE_DEV=true") {
		t.Errorf("no key: %v", err)
	}

	c, _ = load(map[string]string{"CUSTOM_GPT_INSECURE_DEV": "true"})
	k, dev, err := c.Secrets.Keyring()
	if err != nil || !dev || k.CurrentID() != secrets.DevelopmentKeyID {
		t.Errorf("development: %v %v %v", k, dev, err)
	}

	key, raw := secretsKey(32)
	oldKey, oldRaw := secretsKey(32)
	c, err = load(map[string]string{"CUSTOM_GPT_SECRETS_KEY": key, "CUSTOM_GPT_SECRETS_KEY_OLD": oldKey, "CUSTOM_GPT_INSECURE_DEV": "true"})
	if err != nil {
		t.Fatal(err)
	}
	k, dev, err = c.Secrets.Keyring()
	if err != nil || dev || k.CurrentID() != secrets.KeyID(raw) || !k.Holds(secrets.KeyID(oldRaw)) {
		t.Errorf("a key and an old key: %v %v %v", k, dev, err)
	}

	short, _ := secretsKey(16)
	long, _ := secretsKey(33)
	for name, values := range map[string][]string{
		"CUSTOM_GPT_SECRETS_KEY":     {"not base64!", short, long, strings.TrimRight(key, "=") + "!"},
		"CUSTOM_GPT_SECRETS_KEY_OLD": {"not base64!", short},
		"CUSTOM_GPT_INSECURE_DEV":    {"yes"},
	} {
		for _, v := range values {
			_, err := load(map[string]string{name: v, "CUSTOM_GPT_INSECURE_DEV": "true"})
			if name == "CUSTOM_GPT_INSECURE_DEV" {
				_, err = load(map[string]string{name: v})
			}
			if err == nil || !strings.Contains(err.Error(), name+":") {
				t.Errorf("%s=%q: error %v, want one naming the variable", name, v, err)
			} else if len(v) > 8 && strings.Contains(err.Error(), v) {
				t.Errorf("%s: the error repeats the key: %v", name, err)
			}
		}
	}
}
