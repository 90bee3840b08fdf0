package cli

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// appsSetMCP runs `apps set-mcp APP_ID [--enable|--disable]
// [--redirect-host HOST]... [--clear-redirect-hosts]`.
func appsSetMCP(fs *flag.FlagSet) action {
	enable := fs.Bool("enable", false, "answer at /mcp/APP_ID")
	disable := fs.Bool("disable", false, "stop answering at /mcp/APP_ID")
	var hosts stringList
	fs.Var(&hosts, "redirect-host", "also allow clients that register themselves to redirect to this host\n"+
		"(https), or private-use scheme and host (cursor://anysphere.cursor-mcp); repeatable")
	clearHosts := fs.Bool("clear-redirect-hosts", false, "forget the hosts allowed before (the defaults stay)")
	return func(ctx context.Context, c *call, args []string) error {
		if len(args) != 1 {
			return misuse("give exactly one APP_ID")
		}
		if *enable && *disable {
			return misuse("give --enable or --disable, not both")
		}
		if !*enable && !*disable && len(hosts) == 0 && !*clearHosts {
			return misuse("give --enable, --disable, --redirect-host or --clear-redirect-hosts")
		}
		cmd := command.SetAppMCP{AppID: args[0], ClearRedirectHosts: *clearHosts, AllowRedirectHosts: hosts}
		if *enable || *disable {
			cmd.Enabled = enable
		}
		return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
			if err := a.Commands.SetAppMCP.Handle(ctx, cmd); err != nil {
				return err
			}
			listed, err := a.Queries.ListApps.Handle(ctx, query.ListApps{})
			if err != nil {
				return err
			}
			for _, l := range listed {
				if l.App.ID() == args[0] {
					return enc.Encode(map[string]any{"app_id": args[0], "mcp_enabled": l.App.MCPEnabled(),
						"mcp_path": "/mcp/" + args[0], "redirect_hosts": nonNilStrings(l.App.MCPRedirectHosts())})
				}
			}
			return nil
		})
	}
}

// appsClients runs `apps clients APP_ID`: the clients that registered
// themselves and asked for the application's MCP endpoint, one JSON object each.
func appsClients(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one APP_ID")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		links, err := a.Queries.ClientsOfApp.Handle(ctx, query.ClientsOfApp{AppID: args[0]})
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := enc.Encode(clientJSON(l)); err != nil {
				return err
			}
		}
		return nil
	})
}

// appsRevokeClient runs `apps revoke-client APP_ID CLIENT_ID`.
func appsRevokeClient(ctx context.Context, c *call, args []string) error {
	if len(args) != 2 {
		return misuse("give APP_ID and CLIENT_ID")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		if err := a.Commands.RevokeClient.Handle(ctx, command.RevokeClient{AppID: args[0], ClientID: args[1]}); err != nil {
			return err
		}
		return enc.Encode(map[string]any{"app_id": args[0], "client_id": args[1], "revoked": true})
	})
}

func clientJSON(l oauth.ClientLink) map[string]any {
	out := map[string]any{
		"client_id": l.Client.ID, "client_name": l.Client.Name, "verified": false,
		"registration": string(l.Client.Kind), "redirect_uris": nonNilStrings(l.Client.RedirectURIs),
		"token_endpoint_auth_method": l.Client.AuthMethod, "registered_at": l.Client.CreatedAt.Format(time.RFC3339),
		"first_used_at": l.FirstUsed.Format(time.RFC3339), "last_used_at": l.LastUsed.Format(time.RFC3339),
		"revoked": l.Revoked(),
	}
	if l.Revoked() {
		out["revoked_at"] = l.RevokedAt.Format(time.RFC3339)
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
