package cli

import (
	"context"
	"encoding/json"
)

// keysCommand manages the keys that sign access tokens, and the key that
// encrypts them and the webhook secrets in the database.
func keysCommand() *node {
	return group("keys", "manage the token signing keys and the key that encrypts stored secrets",
		leaf("rotate", "", "add a new token signing key; the old one verifies until its tokens expire", noFlags(keysRotate)),
		leaf("rewrap", "", "encrypt every stored secret with CUSTOM_GPT_SECRETS_KEY, opening\nthose under CUSTOM_GPT_SECRETS_KEY_OLD",
			noFlags(keysRewrap)),
	)
}

func keysRotate(ctx context.Context, c *call, args []string) error {
	if len(args) != 0 {
		return misuse("takes no arguments")
	}
	return c.connect(ctx, func(rt Runtime) error {
		key, err := rt.RotateSigningKey(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(c.env.Stdout).Encode(key)
	})
}

// keysRewrap takes the old key from CUSTOM_GPT_SECRETS_KEY_OLD, never from an
// argument: arguments show in the process list and the shell's history.
func keysRewrap(ctx context.Context, c *call, args []string) error {
	if len(args) != 0 {
		return misuse("takes no arguments (the old key comes from CUSTOM_GPT_SECRETS_KEY_OLD)")
	}
	return c.connect(ctx, func(rt Runtime) error {
		res, err := rt.RewrapSecrets(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(c.env.Stdout).Encode(res)
	})
}
