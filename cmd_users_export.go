package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	porthttp "github.com/custom-gpt-adapter/custom-gpt-adapter/ports/http"
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
	u, err := a.Commands.Users.Find(ctx, who)
	if err != nil {
		return err
	}
	apps, err := a.Queries.MemorySpacesOfUser.Handle(ctx, query.MemorySpacesOfUser{EndUser: u.ID()})
	if err != nil {
		return err
	}
	requestID := "cli-users-export-" + fmt.Sprint(time.Now().UnixNano())
	head, _ := json.Marshal(struct {
		UserID     string    `json:"user_id"`
		Email      string    `json:"email"`
		ExportedAt time.Time `json:"exported_at"`
	}{u.ID(), u.Email(), time.Now().UTC()})
	if _, err := stdout.Write(append(head[:len(head)-1], `,"applications":[`...)); err != nil {
		return err
	}
	complete := true
	for i, appID := range apps {
		export, err := a.Queries.ExportMemories.Handle(ctx, query.ExportMemories{AppID: appID, EndUser: u.ID(), RequestID: requestID})
		if err != nil {
			return err
		}
		sep := ""
		if i > 0 {
			sep = ","
		}
		id, _ := json.Marshal(appID)
		if _, err := fmt.Fprintf(stdout, `%s{"app_id":%s,"memories":`, sep, id); err != nil {
			return err
		}
		broke, err := porthttp.WriteExportedMemories(stdout, export.Memories, nil)
		if err != nil {
			return err
		}
		complete = complete && broke == nil
		if _, err := stdout.Write(porthttp.ExportTail(broke)); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(stdout, `],"complete":%t}`+"\n", complete); err != nil {
		return err
	}
	if !complete {
		return fmt.Errorf("users export: the export is incomplete (see the applications with complete: false); run it again")
	}
	return nil
}
