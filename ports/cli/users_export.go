package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
)

// usersExport prints, as one JSON document streamed to stdout, every memory
// an end user has stored through any application, with its history: what an
// operator sends back for the user's request for their data. Each memory space
// read is audited like an export through the API.
func usersExport(fs *flag.FlagSet) action {
	email := fs.String("email", "", "the user's email address (or give USER_ID|EMAIL as the argument)")
	return func(ctx context.Context, c *call, args []string) error {
		who := *email
		switch {
		case who == "" && len(args) == 1:
			who = args[0]
		case who == "" || len(args) != 0:
			return misuse("give --email EMAIL, or exactly one USER_ID or EMAIL")
		}
		return c.connect(ctx, func(rt Runtime) error {
			a := rt.App()
			u, err := a.Queries.FindUser.Handle(ctx, query.FindUser{User: who})
			if err != nil {
				return err
			}
			requestID := "cli-users-export-" + fmt.Sprint(time.Now().UnixNano())
			complete, err := export.User(ctx, c.env.Stdout, export.Queries{Spaces: a.Queries.MemorySpacesOfUser, Exports: a.Queries.ExportMemories},
				u.ID(), u.Email(), requestID)
			if err != nil {
				return err
			}
			if !complete {
				return fmt.Errorf("users export: the export is incomplete (see the applications with complete: false); run it again")
			}
			return nil
		})
	}
}
