package command_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// ByUpstreamSub completes fakeUsers (user_admin_test.go) as a user.Repository.
func (r *fakeUsers) ByUpstreamSub(_ context.Context, sub string) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.users {
		if sub != "" && u.UpstreamSub() == sub {
			c := *u
			return &c, nil
		}
	}
	return nil, errs.NotFound("user-not-found", "user not found")
}

// upstreamUsers keeps users in memory with both unique indexes of the table:
// email in any case, and upstream subject. raceOnAdd simulates a concurrent
// first sign-in that stores the same subject just before this one.
type upstreamUsers struct {
	mu        sync.Mutex
	users     []*user.User
	raceOnAdd *user.User
}

func (r *upstreamUsers) ByUpstreamSub(_ context.Context, sub string) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.users {
		if u.UpstreamSub() == sub {
			c := *u
			return &c, nil
		}
	}
	return nil, errs.NotFound("user-not-found", "user not found")
}

func (r *upstreamUsers) Add(_ context.Context, u *user.User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.raceOnAdd != nil {
		r.users, r.raceOnAdd = append(r.users, r.raceOnAdd), nil
	}
	for _, o := range r.users {
		if user.NormalizeEmail(o.Email()) == user.NormalizeEmail(u.Email()) {
			return &errs.Error{Kind: errs.KindConflict, Slug: "email-taken", Field: "email"}
		}
		if o.UpstreamSub() != "" && o.UpstreamSub() == u.UpstreamSub() {
			return &errs.Error{Kind: errs.KindConflict, Slug: "upstream-account-taken", Field: "upstream_sub"}
		}
	}
	r.users = append(r.users, u)
	return nil
}

func (r *upstreamUsers) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.users)
}

const idp = "https://idp.example.com"

func TestSignInUpstreamUser_createsThenReuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &upstreamUsers{}
	h := command.NewSignInUpstreamUserHandler(repo, nil, nil)

	first, err := h.Handle(ctx, command.SignInUpstreamUser{Issuer: idp, Subject: "42", Email: "Erin@example.com", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := uuid.Parse(first); err != nil || id.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7: %v", first, err)
	}
	u := repo.users[0]
	if u.ID() != first || u.Email() != "Erin@example.com" || u.PasswordHash() != "" ||
		u.UpstreamSub() != user.UpstreamSubject(idp, "42") || u.Status() != user.StatusActive {
		t.Fatalf("stored %+v", u)
	}

	// Later sign-ins find the account by subject, whatever the email says now.
	for _, email := range []string{"Erin@example.com", "erin@new.example.com", ""} {
		again, err := h.Handle(ctx, command.SignInUpstreamUser{Issuer: idp, Subject: "42", Email: email})
		if err != nil || again != first {
			t.Fatalf("sign-in with email %q: %q %v, want %q", email, again, err, first)
		}
	}
	// The same subject at another issuer is another person.
	other, err := h.Handle(ctx, command.SignInUpstreamUser{Issuer: "https://other.example.com", Subject: "42",
		Email: "frank@example.com", EmailVerified: true})
	if err != nil || other == first {
		t.Fatalf("other issuer: %q %v", other, err)
	}
	if repo.count() != 2 {
		t.Fatalf("%d users, want 2", repo.count())
	}
}

func TestSignInUpstreamUser_refuses(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	local, err := user.New("local-1", "Grace@example.com", mustHashForUpstreamTest(t), now)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := user.NewUpstream("upstream-1", "heidi@example.com", user.UpstreamSubject(idp, "disabled"), now)
	if err != nil {
		t.Fatal(err)
	}
	disabled.Disable(now)

	tests := []struct {
		name string
		cmd  command.SignInUpstreamUser
		kind errs.Kind
		slug string
	}{
		{"email of a local account, verified or not", command.SignInUpstreamUser{Issuer: idp, Subject: "7",
			Email: "GRACE@example.com", EmailVerified: true}, errs.KindConflict, "upstream-email-taken"},
		{"no email", command.SignInUpstreamUser{Issuer: idp, Subject: "7", EmailVerified: true}, errs.KindInvalid, "upstream-email-missing"},
		{"unverified email", command.SignInUpstreamUser{Issuer: idp, Subject: "7", Email: "ivan@example.com"}, errs.KindInvalid, "upstream-email-unverified"},
		{"invalid email", command.SignInUpstreamUser{Issuer: idp, Subject: "7", Email: "Ivan <ivan@example.com>", EmailVerified: true},
			errs.KindInvalid, "email-invalid"},
		{"no subject", command.SignInUpstreamUser{Issuer: idp, Email: "ivan@example.com", EmailVerified: true}, errs.KindInvalid, "upstream-subject-missing"},
		{"disabled user", command.SignInUpstreamUser{Issuer: idp, Subject: "disabled"}, errs.KindForbidden, "user-disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := &upstreamUsers{users: []*user.User{local, disabled}}
			id, err := command.NewSignInUpstreamUserHandler(repo, nil, nil).Handle(context.Background(), tt.cmd)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Slug != tt.slug {
				t.Fatalf("Handle = %q %#v, want %v %q", id, err, tt.kind, tt.slug)
			}
			if repo.count() != 2 {
				t.Fatalf("%d users stored, want the 2 there were", repo.count())
			}
			if got, _ := repo.ByUpstreamSub(context.Background(), user.UpstreamSubject(idp, "7")); got != nil {
				t.Fatalf("local account linked or created: %+v", got)
			}
		})
	}
}

// Two first sign-ins of one person racing: the loser uses the winner's account.
func TestSignInUpstreamUser_concurrentFirstSignIn(t *testing.T) {
	t.Parallel()
	winner, err := user.NewUpstream("winner", "judy@example.com", user.UpstreamSubject(idp, "9"), time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	repo := &upstreamUsers{raceOnAdd: winner}
	id, err := command.NewSignInUpstreamUserHandler(repo, nil, nil).Handle(context.Background(),
		command.SignInUpstreamUser{Issuer: idp, Subject: "9", Email: "judy@example.com", EmailVerified: true})
	if err != nil || id != "winner" || repo.count() != 1 {
		t.Fatalf("Handle = %q %v with %d users, want the winner's account", id, err, repo.count())
	}
}

func mustHashForUpstreamTest(t *testing.T) string {
	t.Helper()
	h, err := user.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	return h
}
