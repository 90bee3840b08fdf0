package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

type appJSON struct {
	AppID     string    `json:"app_id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	APIKey    string    `json:"api_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// runApps manages applications. Output is JSON on stdout so scripts can read it.
func runApps(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	svc, err := service.New(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer svc.Close()
	apps := svc.App().Commands.Apps
	enc := json.NewEncoder(stdout)

	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("apps create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		name := fs.String("name", "", "application name (required)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *name == "" {
			return fmt.Errorf("apps create: --name is required")
		}
		a, key, err := apps.Register(ctx, command.RegisterApp{AppID: uuid.Must(uuid.NewV7()).String(), Name: *name})
		if err != nil {
			return err
		}
		return enc.Encode(appJSON{AppID: a.ID(), Name: a.Name(), Status: string(a.Status()), APIKey: key, CreatedAt: a.CreatedAt()})
	case "list":
		list, err := apps.List(ctx)
		if err != nil {
			return err
		}
		out := make([]appJSON, 0, len(list))
		for _, a := range list {
			out = append(out, appJSON{AppID: a.ID(), Name: a.Name(), Status: string(a.Status()), CreatedAt: a.CreatedAt()})
		}
		return enc.Encode(out)
	case "rotate-key":
		if len(args) != 2 {
			return fmt.Errorf("apps rotate-key: give exactly one APP_ID")
		}
		key, err := apps.RotateKey(ctx, args[1])
		if err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[1], "api_key": key})
	case "disable":
		if len(args) != 2 {
			return fmt.Errorf("apps disable: give exactly one APP_ID")
		}
		if err := apps.Disable(ctx, args[1]); err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[1], "status": "disabled"})
	}
	return errUsage
}
