package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// runKeys manages the keys that sign access tokens.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errUsage
	}
	return withService(ctx, getenv, stderr, func(svc *service.Service) error {
		key, err := svc.RotateSigningKey(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(map[string]string{"kid": key.KID, "algorithm": key.Algorithm})
	})
}
