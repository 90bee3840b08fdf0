package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

type userJSON struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

func toUserJSON(u *user.User) userJSON {
	return userJSON{UserID: u.ID(), Email: u.Email(), Status: string(u.Status())}
}

// maxPasswordLine bounds the bytes read for a password: the longest password
// that can pass validation, plus a CR. A longer line is refused, never cut.
const maxPasswordLine = 4*user.MaxPasswordChars + 1

// runUsersWith manages end-user accounts. The password comes from stdin, so it
// stays out of the process list and shell history; nothing prints it. Output
// is one JSON object on stdout.
func runUsersWith(ctx context.Context, a app.Application, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	enc := json.NewEncoder(stdout)

	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("users create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "the user's email address (required)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *email == "" {
			return fmt.Errorf("users create: --email is required")
		}
		if fs.NArg() != 0 {
			// Not echoed: a stray argument is most likely the password itself.
			return fmt.Errorf("users create: unexpected argument (the password is read from stdin, never from the command line)")
		}
		password, err := readPasswordLine(stdin)
		if err != nil {
			return fmt.Errorf("users create: %w", err)
		}
		u, err := a.Commands.CreateUser.Handle(ctx, command.CreateUser{Email: *email, Password: password})
		if err != nil {
			return err
		}
		return enc.Encode(toUserJSON(u))
	case "disable":
		if len(args) != 2 {
			return fmt.Errorf("users disable: give exactly one USER_ID or EMAIL")
		}
		if err := a.Commands.DisableUser.Handle(ctx, command.DisableUser{User: args[1]}); err != nil {
			return err
		}
		u, err := a.Queries.FindUser.Handle(ctx, query.FindUser{User: args[1]})
		if err != nil {
			return err
		}
		return enc.Encode(toUserJSON(u))
	}
	return errUsage
}

// readPasswordLine returns the first line of r without its line ending
// ("\n" or "\r\n"). An empty password is refused here, with a hint, because the
// usual cause is forgetting to pipe one in.
func readPasswordLine(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxPasswordLine+1)
	if !sc.Scan() {
		if errors.Is(sc.Err(), bufio.ErrTooLong) {
			return "", fmt.Errorf("password on stdin is longer than %d characters", user.MaxPasswordChars)
		}
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return "", errors.New("no password on stdin: give it as the first line, e.g. printf '%s\\n' \"$PASSWORD\" | custom-gpt-adapter users create --email ...")
	}
	if sc.Text() == "" {
		return "", errors.New("the password on stdin is empty")
	}
	return sc.Text(), nil
}

// runUsers manages end-user accounts. Output is JSON on stdout.
func runUsers(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	return withService(ctx, getenv, stderr, func(svc *service.Service) error {
		if args[0] == "export" {
			return runUsersExport(ctx, svc.App(), args[1:], stdout, stderr)
		}
		return runUsersWith(ctx, svc.App(), args, stdin, stdout, stderr)
	})
}
