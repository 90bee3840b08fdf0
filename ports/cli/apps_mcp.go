package cli

import (
	"context"
	"encoding/json"
	"flag"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
)

// appsSetMCP runs `apps set-mcp APP_ID --enable|--disable`.
func appsSetMCP(fs *flag.FlagSet) action {
	enable := fs.Bool("enable", false, "answer at /mcp/APP_ID (API keys of the application)")
	disable := fs.Bool("disable", false, "stop answering at /mcp/APP_ID")
	return func(ctx context.Context, c *call, args []string) error {
		if len(args) != 1 {
			return misuse("give exactly one APP_ID")
		}
		if *enable == *disable {
			return misuse("give --enable or --disable")
		}
		return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
			if err := a.Commands.SetAppMCP.Handle(ctx, command.SetAppMCP{AppID: args[0], Enabled: *enable}); err != nil {
				return err
			}
			return enc.Encode(map[string]any{"app_id": args[0], "mcp_enabled": *enable, "mcp_path": "/mcp/" + args[0]})
		})
	}
}
