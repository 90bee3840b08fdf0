package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
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

// usersCommand manages end-user accounts. The password comes from stdin, so
// it stays out of the process list and shell history; nothing prints it.
// Output is JSON on stdout.
func usersCommand() *node {
	return group("users", "manage end-user accounts; output is JSON on stdout",
		leaf("create", "--email EMAIL", "create an end-user account; reads its password from stdin", usersCreate),
		leaf("disable", "USER_ID|EMAIL", "stop an end user from signing in", noFlags(usersDisable)),
		leaf("export", "--email EMAIL", "print every memory the user stored, in every application, with\n"+
			"its history, as one JSON document (a data-access request)", usersExport),
	)
}

func usersCreate(fs *flag.FlagSet) action {
	email := fs.String("email", "", "the user's email address (required)")
	return func(ctx context.Context, c *call, args []string) error {
		if *email == "" {
			return misuse("--email is required")
		}
		if len(args) != 0 {
			// Not echoed: a stray argument is most likely the password itself.
			return misuse("unexpected argument (the password is read from stdin, never from the command line)")
		}
		password, err := readPasswordLine(c.env.Stdin)
		if err != nil {
			return fmt.Errorf("users create: %w", err)
		}
		return c.connect(ctx, func(rt Runtime) error {
			u, err := rt.App().Commands.CreateUser.Handle(ctx, command.CreateUser{Email: *email, Password: password})
			if err != nil {
				return err
			}
			return json.NewEncoder(c.env.Stdout).Encode(toUserJSON(u))
		})
	}
}

func usersDisable(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one USER_ID or EMAIL")
	}
	return c.connect(ctx, func(rt Runtime) error {
		a := rt.App()
		if err := a.Commands.DisableUser.Handle(ctx, command.DisableUser{User: args[0]}); err != nil {
			return err
		}
		u, err := a.Queries.FindUser.Handle(ctx, query.FindUser{User: args[0]})
		if err != nil {
			return err
		}
		return json.NewEncoder(c.env.Stdout).Encode(toUserJSON(u))
	})
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
