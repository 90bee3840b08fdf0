package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// runKeys manages the keys that sign access tokens, and the key that encrypts
// them and the webhook secrets in the database.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return errUsage
	}
	switch args[0] {
	case "rotate":
		return withService(ctx, getenv, stderr, func(svc *service.Service) error {
			key, err := svc.RotateSigningKey(ctx)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(map[string]string{"kid": key.KID, "algorithm": key.Algorithm})
		})
	case "rewrap":
		// The old key comes from CUSTOM_GPT_SECRETS_KEY_OLD, never a flag:
		// arguments show in the process list and the shell's history.
		return withService(ctx, getenv, stderr, func(svc *service.Service) error {
			res, err := svc.RewrapSecrets(ctx)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(res)
		})
	}
	return errUsage
}
