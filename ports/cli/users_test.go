package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

const usersTestPassword = "correct horse battery staple"

// usersCLI runs `users ...` against a real, migrated database of its own.
type usersCLI struct {
	t    *testing.T
	repo *postgres.UserRepository
	app  app.Application
}

func newUsersCLI(t *testing.T) *usersCLI {
	t.Helper()
	pool, _ := pgtest.NewPool(t)
	repo := postgres.NewUserRepository(pool)
	a := app.Application{
		Commands: app.Commands{CreateUser: command.NewCreateUserHandler(repo, nil, nil), DisableUser: command.NewDisableUserHandler(repo, nil, nil, nil)},
		Queries:  app.Queries{FindUser: query.NewFindUserHandler(repo, nil, nil)},
	}
	return &usersCLI{t: t, repo: repo, app: a}
}

func (c *usersCLI) run(stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	env := Env{Getenv: noEnv, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
	err = Run(context.Background(), append([]string{"users"}, args...), env, wiringOf(c.app))
	return out.String(), errOut.String(), err
}

// decodeUserJSON requires exactly one object with exactly the three fields.
func decodeUserJSON(t *testing.T, out string) userJSON {
	t.Helper()
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("output %q is not a JSON object: %v", out, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("output %q holds more than one JSON value", out)
	}
	if len(raw) != 3 {
		t.Fatalf("output %q: want exactly user_id, email and status", out)
	}
	var u userJSON
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.UserID == "" || u.Email == "" || u.Status == "" {
		t.Fatalf("output %q: %v", out, err)
	}
	return u
}

func TestUsersCreate(t *testing.T) {
	t.Parallel()
	c := newUsersCLI(t)
	ctx := context.Background()

	tests := []struct {
		name  string
		email string
		stdin string
		want  string // the password that must verify
	}{
		{"newline stripped", "a@example.com", usersTestPassword + "\n", usersTestPassword},
		{"CRLF stripped", "b@example.com", usersTestPassword + "\r\n", usersTestPassword},
		{"no newline at all", "c@example.com", usersTestPassword, usersTestPassword},
		{"only the first line", "d@example.com", usersTestPassword + "\nsomething else\n", usersTestPassword},
		{"inner and edge spaces kept", "e@example.com", "  spaced out pass  \n", "  spaced out pass  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := c.run(tt.stdin, "create", "--email", tt.email)
			if err != nil {
				t.Fatalf("users create: %v (stderr %q)", err, errOut)
			}
			got := decodeUserJSON(t, out)
			if id, err := uuid.Parse(got.UserID); err != nil || id.Version() != 7 {
				t.Errorf("user_id %q is not a UUIDv7", got.UserID)
			}
			if got.Email != tt.email || got.Status != "active" {
				t.Errorf("printed %+v", got)
			}
			if strings.Contains(out+errOut, strings.TrimSpace(tt.want)) {
				t.Error("the password was printed")
			}

			stored, err := c.repo.ByEmail(ctx, tt.email)
			if err != nil || stored.ID() != got.UserID {
				t.Fatalf("stored user: %v %+v", err, stored)
			}
			if ok, err := user.VerifyPassword(tt.want, stored.PasswordHash()); err != nil || !ok {
				t.Errorf("password %q does not verify: %v %v", tt.want, ok, err)
			}
			if ok, _ := user.VerifyPassword(tt.want+"\n", stored.PasswordHash()); ok {
				t.Error("the line ending became part of the password")
			}
		})
	}
}

func TestUsersCreateRefuses(t *testing.T) {
	t.Parallel()
	c := newUsersCLI(t)
	ctx := context.Background()
	if _, _, err := c.run(usersTestPassword+"\n", "create", "--email", "taken@example.com"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		stdin   string
		args    []string
		kind    errs.Kind // checked when not internal
		message string    // must appear in the error
	}{
		{"no email flag", usersTestPassword + "\n", []string{"create"}, errs.KindInternal, "--email"},
		{"empty email", usersTestPassword + "\n", []string{"create", "--email", ""}, errs.KindInternal, "--email"},
		{"password as argument", "", []string{"create", "--email", "x@example.com", usersTestPassword}, errs.KindInternal, "stdin"},
		{"nothing on stdin", "", []string{"create", "--email", "x@example.com"}, errs.KindInternal, "no password on stdin"},
		{"empty first line", "\n" + usersTestPassword + "\n", []string{"create", "--email", "x@example.com"}, errs.KindInternal, "empty"},
		{"CRLF only", "\r\n", []string{"create", "--email", "x@example.com"}, errs.KindInternal, "empty"},
		{"short password", "short\n", []string{"create", "--email", "x@example.com"}, errs.KindInvalid, "password"},
		{"257 characters", strings.Repeat("p", 257) + "\n", []string{"create", "--email", "x@example.com"}, errs.KindInvalid, "password"},
		{"a megabyte line", strings.Repeat("p", 1<<20), []string{"create", "--email", "x@example.com"}, errs.KindInternal, "longer than"},
		{"invalid email", usersTestPassword + "\n", []string{"create", "--email", "Alice <x@example.com>"}, errs.KindInvalid, "email"},
		{"taken email, other case", usersTestPassword + "\n", []string{"create", "--email", "TAKEN@example.com"}, errs.KindConflict, "email"},
		{"unknown flag", usersTestPassword + "\n", []string{"create", "--email", "x@example.com", "--password", "x"}, errs.KindInternal, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := c.run(tt.stdin, tt.args...)
			if err == nil {
				t.Fatalf("users %v succeeded: %q", tt.args, out)
			}
			if tt.kind != errs.KindInternal && errs.KindOf(err) != tt.kind {
				t.Errorf("error %v: kind %v, want %v", err, errs.KindOf(err), tt.kind)
			}
			if !strings.Contains(err.Error()+errOut, tt.message) {
				t.Errorf("error %q (stderr %q) does not mention %q", err, errOut, tt.message)
			}
			if out != "" {
				t.Errorf("printed %q on failure", out)
			}
			if strings.Contains(err.Error()+errOut, usersTestPassword) {
				t.Error("the password appears in the error output")
			}
		})
	}
	if _, err := c.repo.ByEmail(ctx, "x@example.com"); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("a refused create stored a user: %v", err)
	}
}

func TestUsersDisable(t *testing.T) {
	t.Parallel()
	c := newUsersCLI(t)
	ctx := context.Background()

	create := func(email string) userJSON {
		out, _, err := c.run(usersTestPassword+"\n", "create", "--email", email)
		if err != nil {
			t.Fatal(err)
		}
		return decodeUserJSON(t, out)
	}
	alice, bob, carol := create("Alice@example.com"), create("bob@example.com"), create("carol@example.com")

	for _, tt := range []struct {
		name, arg string
		who       userJSON
	}{
		{"by id", alice.UserID, alice},
		{"by email in another case", "BOB@EXAMPLE.COM", bob},
	} {
		out, _, err := c.run("", "disable", tt.arg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := decodeUserJSON(t, out)
		if got != (userJSON{UserID: tt.who.UserID, Email: tt.who.Email, Status: "disabled"}) {
			t.Errorf("%s: printed %+v", tt.name, got)
		}
		stored, err := c.repo.Get(ctx, tt.who.UserID)
		if err != nil || errs.KindOf(stored.Authorize()) != errs.KindForbidden {
			t.Errorf("%s: stored user still authorized: %v", tt.name, err)
		}
	}
	if stored, err := c.repo.Get(ctx, carol.UserID); err != nil || stored.Status() != user.StatusActive {
		t.Errorf("an untouched user changed: %v %+v", err, stored)
	}

	// Disabling twice is harmless.
	if _, _, err := c.run("", "disable", alice.UserID); err != nil {
		t.Errorf("second disable: %v", err)
	}
	for _, arg := range []string{"nobody@example.com", uuid.Must(uuid.NewV7()).String()} {
		if out, _, err := c.run("", "disable", arg); errs.KindOf(err) != errs.KindNotFound || out != "" {
			t.Errorf("disable %q = %q, %v; want not found, nothing printed", arg, out, err)
		}
	}
	for _, args := range [][]string{{"disable"}, {"disable", alice.UserID, bob.UserID}} {
		if _, _, err := c.run("", args...); err == nil || !strings.Contains(err.Error(), "exactly one") {
			t.Errorf("users %v: %v", args, err)
		}
	}
}

func TestUsersUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {}, {"list"}, {"delete", "x"}} {
		var out bytes.Buffer
		env := Env{Getenv: noEnv, Stdout: &out, Stderr: io.Discard}
		if err := Run(context.Background(), append([]string{"users"}, args...), env, neverConnect(t)); !errors.Is(err, ErrUsage) {
			t.Errorf("users %v = %v, want usage", args, err)
		}
	}
}
