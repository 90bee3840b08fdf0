package query_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

const loginPassword = "correct horse battery staple"

var loginHash = sync.OnceValue(func() string {
	h, err := user.HashPassword(loginPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// fakeUserFinder finds users by email case-insensitively, as the adapter does.
type fakeUserFinder struct {
	mu    sync.Mutex
	users []*user.User
	err   error
	calls int
}

func (r *fakeUserFinder) ByEmail(_ context.Context, email string) (*user.User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	for _, u := range r.users {
		if user.NormalizeEmail(u.Email()) == user.NormalizeEmail(email) {
			return u, nil
		}
	}
	return nil, errs.NotFound("user-not-found", "user not found")
}

func newLoginUsers(t *testing.T) *fakeUserFinder {
	t.Helper()
	now := time.Now().UTC()
	active, err := user.New("user-active", "Alice@example.com", loginHash(), now)
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := user.New("user-disabled", "dave@example.com", loginHash(), now)
	if err != nil {
		t.Fatal(err)
	}
	disabled.Disable(now)
	return &fakeUserFinder{users: []*user.User{
		active, disabled,
		user.UnmarshalFromDatabase("user-upstream", "upstream@example.com", "", user.StatusActive, "issuer|1", now, now),
		user.UnmarshalFromDatabase("user-broken", "broken@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$", user.StatusActive, "", now, now),
	}}
}

func TestAuthenticateUser(t *testing.T) {
	t.Parallel()

	// minVerifyTime is far below what one argon2id check with 19 MiB takes on
	// any machine, and far above a lookup that skips it.
	const minVerifyTime = 2 * time.Millisecond

	tests := []struct {
		name      string
		email     string
		password  string
		wantID    string
		wantKind  errs.Kind
		wantSlug  string
		wantCause error
	}{
		{"right password", "Alice@example.com", loginPassword, "user-active", 0, "", nil},
		{"email in another case", " alice@EXAMPLE.com ", loginPassword, "user-active", 0, "", nil},
		{"wrong password", "alice@example.com", loginPassword + "!", "", errs.KindUnauthorized, "invalid-login", nil},
		{"empty password", "alice@example.com", "", "", errs.KindUnauthorized, "invalid-login", nil},
		{"unknown email", "nobody@example.com", loginPassword, "", errs.KindUnauthorized, "invalid-login", nil},
		{"empty email", "", loginPassword, "", errs.KindUnauthorized, "invalid-login", nil},
		{"overlong password", "alice@example.com", strings.Repeat("a", 4*user.MaxPasswordChars+1), "", errs.KindUnauthorized, "invalid-login", nil},
		{"disabled, right password", "dave@example.com", loginPassword, "", errs.KindForbidden, "user-disabled", nil},
		{"disabled, wrong password", "dave@example.com", "not the password", "", errs.KindUnauthorized, "invalid-login", nil},
		{"no local password", "upstream@example.com", "", "", errs.KindUnauthorized, "invalid-login", nil},
		{"malformed stored hash", "broken@example.com", loginPassword, "", errs.KindUnauthorized, "invalid-login", user.ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := query.NewAuthenticateUserHandler(newLoginUsers(t), nil, nil)

			start := time.Now()
			id, err := h.Handle(context.Background(), query.AuthenticateUser{Email: tt.email, Password: tt.password})
			elapsed := time.Since(start)

			if elapsed < minVerifyTime {
				t.Errorf("answered in %v: no password verification ran, timing tells this case apart", elapsed)
			}
			if tt.wantSlug == "" {
				if err != nil || id != tt.wantID {
					t.Fatalf("Handle = %q, %v; want %q", id, err, tt.wantID)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != tt.wantKind || e.Slug != tt.wantSlug {
				t.Fatalf("Handle = %#v, want kind %v slug %q", err, tt.wantKind, tt.wantSlug)
			}
			if id != "" {
				t.Errorf("id %q returned with an error", id)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("error %v does not keep its cause %v for the logs", err, tt.wantCause)
			}
		})
	}
}

// Every refusal of credentials reads the same to the caller: which part was
// wrong is not disclosed.
func TestAuthenticateUser_refusalsAreIndistinguishable(t *testing.T) {
	t.Parallel()
	h := query.NewAuthenticateUserHandler(newLoginUsers(t), nil, nil)
	ctx := context.Background()

	var shown []string
	for _, q := range []query.AuthenticateUser{
		{Email: "nobody@example.com", Password: loginPassword},
		{Email: "alice@example.com", Password: "wrong password!"},
		{Email: "broken@example.com", Password: loginPassword},
		{Email: "upstream@example.com", Password: loginPassword},
	} {
		_, err := h.Handle(ctx, q)
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", q.Email, err)
		}
		shown = append(shown, e.Slug+"|"+e.Field+"|"+e.Detail)
	}
	for _, s := range shown[1:] {
		if s != shown[0] {
			t.Errorf("refusals differ: %q vs %q", s, shown[0])
		}
	}
}

// A broken database must not look like a wrong password.
func TestAuthenticateUser_repositoryErrorPassesThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("db down")
	repo := &fakeUserFinder{err: boom}
	h := query.NewAuthenticateUserHandler(repo, nil, nil)

	_, err := h.Handle(context.Background(), query.AuthenticateUser{Email: "alice@example.com", Password: loginPassword})
	if !errors.Is(err, boom) || errs.KindOf(err) == errs.KindUnauthorized {
		t.Errorf("Handle = %v, want the repository error", err)
	}
	if repo.calls != 1 {
		t.Errorf("repository called %d times, want 1", repo.calls)
	}
}
