package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
)

// runUsersExport prints, as one JSON document streamed to stdout, every memory
// an end user has stored through any application, with its history: what an
// operator sends back for the user's request for their data. Each memory space
// read is audited like an export through the API.
func runUsersExport(ctx context.Context, a app.Application, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("users export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's email address (or give USER_ID|EMAIL as the argument)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	who := *email
	switch {
	case who == "" && fs.NArg() == 1:
		who = fs.Arg(0)
	case who == "" || fs.NArg() != 0:
		return fmt.Errorf("users export: give --email EMAIL, or exactly one USER_ID or EMAIL")
	}
	u, err := a.Queries.FindUser.Handle(ctx, query.FindUser{User: who})
	if err != nil {
		return err
	}
	requestID := "cli-users-export-" + fmt.Sprint(time.Now().UnixNano())
	complete, err := export.User(ctx, stdout, export.Queries{Spaces: a.Queries.MemorySpacesOfUser, Exports: a.Queries.ExportMemories},
		u.ID(), u.Email(), requestID)
	if err != nil {
		return err
	}
	if !complete {
		return fmt.Errorf("users export: the export is incomplete (see the applications with complete: false); run it again")
	}
	return nil
}
