package command_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// fakeUsers keeps users in memory and, like the database's unique index,
// refuses a second account for an address in any case.
type fakeUsers struct {
	mu      sync.Mutex
	users   map[string]*user.User
	updates int
}

func newFakeUsers() *fakeUsers { return &fakeUsers{users: map[string]*user.User{}} }

func (r *fakeUsers) Add(_ context.Context, u *user.User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[u.ID()]; ok {
		return &errs.Error{Kind: errs.KindConflict, Slug: "user-exists", Field: "user_id"}
	}
	for _, o := range r.users {
		if user.NormalizeEmail(o.Email()) == user.NormalizeEmail(u.Email()) {
			return &errs.Error{Kind: errs.KindConflict, Slug: "email-taken", Field: "email"}
		}
	}
	c := *u
	r.users[u.ID()] = &c
	return nil
}

func (r *fakeUsers) Get(_ context.Context, id string) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u, ok := r.users[id]; ok {
		c := *u
		return &c, nil
	}
	return nil, errs.NotFound("user-not-found", "user not found")
}

func (r *fakeUsers) ByEmail(_ context.Context, email string) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.users {
		if user.NormalizeEmail(u.Email()) == user.NormalizeEmail(email) {
			c := *u
			return &c, nil
		}
	}
	return nil, errs.NotFound("user-not-found", "user not found")
}

func (r *fakeUsers) Update(ctx context.Context, id string, fn func(*user.User) error) error {
	u, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := fn(u); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users[id] = u
	r.updates++
	return nil
}

func (r *fakeUsers) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.users)
}

func TestUsers_Create(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newFakeUsers()
	create := command.NewCreateUserHandler(repo, nil, nil)

	const pw = "correct horse battery staple"
	u, err := create.Handle(ctx, command.CreateUser{Email: "  Alice@Example.com ", Password: pw})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	id, err := uuid.Parse(u.ID())
	if err != nil || id.Version() != 7 {
		t.Errorf("id %q is not a UUIDv7: %v", u.ID(), err)
	}
	if u.Email() != "Alice@Example.com" || u.Status() != user.StatusActive {
		t.Errorf("user = %q %q", u.Email(), u.Status())
	}
	stored, err := repo.Get(ctx, u.ID())
	if err != nil {
		t.Fatalf("created user not stored: %v", err)
	}
	if stored.PasswordHash() == pw {
		t.Fatal("the password itself is stored")
	}
	if ok, err := user.VerifyPassword(pw, stored.PasswordHash()); err != nil || !ok {
		t.Errorf("stored hash does not verify the password: %v %v", ok, err)
	}
	if ok, _ := user.VerifyPassword(pw+"!", stored.PasswordHash()); ok {
		t.Error("stored hash verifies another password")
	}

	other, err := create.Handle(ctx, command.CreateUser{Email: "bob@example.com", Password: pw})
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if other.ID() == u.ID() || other.PasswordHash() == u.PasswordHash() {
		t.Error("two users share an id or a hash (salt not random)")
	}
}

func TestUsers_CreateRefuses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		email    string
		password string
		kind     errs.Kind
		field    string
	}{
		{"short password", "carol@example.com", "short", errs.KindInvalid, "password"},
		{"empty password", "carol@example.com", "", errs.KindInvalid, "password"},
		{"257-character password", "carol@example.com", string(make([]byte, 257)), errs.KindInvalid, "password"},
		{"invalid email", "not an email", "correct horse battery staple", errs.KindInvalid, "email"},
		{"taken email in another case", "ALICE@example.com", "correct horse battery staple", errs.KindConflict, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := newFakeUsers()
			create := command.NewCreateUserHandler(repo, nil, nil)
			if _, err := create.Handle(ctx, command.CreateUser{Email: "alice@example.com", Password: "correct horse battery staple"}); err != nil {
				t.Fatal(err)
			}

			u, err := create.Handle(ctx, command.CreateUser{Email: tt.email, Password: tt.password})
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Field != tt.field {
				t.Fatalf("Create = %#v, want kind %v on %q", err, tt.kind, tt.field)
			}
			if u != nil {
				t.Error("user returned with an error")
			}
			if repo.count() != 1 {
				t.Errorf("%d users stored, want only the first", repo.count())
			}
		})
	}
}

func TestUsers_Disable(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		idOrEmail func(u *user.User) string
	}{
		{"by id", func(u *user.User) string { return u.ID() }},
		{"by email", func(*user.User) string { return "alice@example.com" }},
		{"by email in another case", func(*user.User) string { return "ALICE@EXAMPLE.COM" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := newFakeUsers()
			create := command.NewCreateUserHandler(repo, nil, nil)
			disable := command.NewDisableUserHandler(repo, nil, nil, nil)
			find := query.NewFindUserHandler(repo, nil, nil)
			alice, err := create.Handle(ctx, command.CreateUser{Email: "Alice@example.com", Password: "correct horse battery staple"})
			if err != nil {
				t.Fatal(err)
			}
			bob, err := create.Handle(ctx, command.CreateUser{Email: "bob@example.com", Password: "correct horse battery staple"})
			if err != nil {
				t.Fatal(err)
			}

			if err := disable.Handle(ctx, command.DisableUser{User: tt.idOrEmail(alice)}); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			got, err := find.Handle(ctx, query.FindUser{User: alice.ID()})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status() != user.StatusDisabled || errs.KindOf(got.Authorize()) != errs.KindForbidden {
				t.Errorf("after Disable: status %q", got.Status())
			}
			// Bob's password was hashed in between: the clock has moved.
			if !got.UpdatedAt().After(alice.UpdatedAt()) || !got.CreatedAt().Equal(alice.CreatedAt()) {
				t.Errorf("updated at %v not moved from %v", got.UpdatedAt(), alice.UpdatedAt())
			}
			if b, _ := find.Handle(ctx, query.FindUser{User: "BOB@example.com"}); b == nil || b.ID() != bob.ID() || b.Status() != user.StatusActive {
				t.Errorf("another user changed: %+v", b)
			}
		})
	}
}

func TestUsers_DisableUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newFakeUsers()
	disable := command.NewDisableUserHandler(repo, nil, nil, nil)

	for _, idOrEmail := range []string{"nobody@example.com", "0190c2a0-0000-7000-8000-000000000000", ""} {
		if err := disable.Handle(ctx, command.DisableUser{User: idOrEmail}); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("Disable(%q) = %v, want KindNotFound", idOrEmail, err)
		}
	}
	if repo.updates != 0 {
		t.Errorf("%d updates for unknown users", repo.updates)
	}
}
