// Package user models the end users who sign in to connect a Custom GPT: each
// one gets a memory space of their own inside every application they connect.
package user

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Status tells whether a user may sign in.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// maxEmailOctets is the longest address SMTP can deliver to (RFC 5321's 256-octet
// path minus its angle brackets); it is counted in bytes, as the RFC does.
const maxEmailOctets = 254

// User is an end user. Only an argon2id hash of the password is kept.
type User struct {
	id           string
	email        string
	passwordHash string
	status       Status
	upstreamSub  string
	createdAt    time.Time
	updatedAt    time.Time
}

// New creates an active local account. email is kept as typed, trimmed;
// addresses compare case-insensitively (see NormalizeEmail). passwordHash must
// come from HashPassword: a plaintext password passed by mistake is refused.
func New(id, email, passwordHash string, now time.Time) (*User, error) {
	if id == "" || strings.ContainsAny(id, ": \t\n") {
		return nil, errs.Invalid("user_id", "user-id-invalid", "user id must be non-empty and contain no ':' or spaces")
	}
	email, err := validateEmail(email)
	if err != nil {
		return nil, err
	}
	if _, err := parsePHC(passwordHash); err != nil {
		return nil, errs.Invalid("password_hash", "password-hash-invalid", "password hash must be an argon2id PHC string")
	}
	return &User{id: id, email: email, passwordHash: passwordHash, status: StatusActive, createdAt: now, updatedAt: now}, nil
}

// UnmarshalFromDatabase rebuilds a user from storage; adapters only. An empty
// passwordHash (NULL) is a user who signs in only through the upstream provider.
func UnmarshalFromDatabase(id, email, passwordHash string, status Status, upstreamSub string, createdAt, updatedAt time.Time) *User {
	return &User{
		id: id, email: email, passwordHash: passwordHash, status: status, upstreamSub: upstreamSub,
		createdAt: createdAt, updatedAt: updatedAt,
	}
}

func (u *User) ID() string           { return u.id }
func (u *User) Email() string        { return u.email }
func (u *User) PasswordHash() string { return u.passwordHash }
func (u *User) Status() Status       { return u.status }
func (u *User) UpstreamSub() string  { return u.upstreamSub }
func (u *User) CreatedAt() time.Time { return u.createdAt }
func (u *User) UpdatedAt() time.Time { return u.updatedAt }

// Authorize refuses a user who may not sign in. Any status other than active
// refuses, so a value this code does not know never grants access.
func (u *User) Authorize() error {
	if u.status != StatusActive {
		return errs.Forbidden("user-disabled", "this account is disabled")
	}
	return nil
}

// Disable stops the user from signing in; their memories stay.
func (u *User) Disable(now time.Time) {
	u.status = StatusDisabled
	u.updatedAt = now
}

// NormalizeEmail is the form two addresses are compared in: trimmed and
// lower-cased. Local parts are case-sensitive in theory only; treating
// Alice@ and alice@ as two accounts would let one person hold both.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validateEmail accepts a bare addr-spec ("a@example.com"): no display name, no
// comments, no quoted local part, nothing net/mail would rewrite.
func validateEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	invalid := errs.Invalid("email", "email-invalid", "email must be a plain address such as name@example.com, at most 254 characters")
	if email == "" || len(email) > maxEmailOctets {
		return "", invalid
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", invalid
	}
	return email, nil
}

// Repository stores users.
type Repository interface {
	// Add returns errs.KindConflict on field "email" when the address is taken,
	// whatever its case.
	Add(ctx context.Context, u *User) error
	// Get returns errs.KindNotFound when no user has that id.
	Get(ctx context.Context, id string) (*User, error)
	// ByEmail finds a user by address, case-insensitively; errs.KindNotFound
	// when there is none.
	ByEmail(ctx context.Context, email string) (*User, error)
	// ByUpstreamSub finds the user linked to an upstream subject (see
	// UpstreamSubject); errs.KindNotFound when there is none.
	ByUpstreamSub(ctx context.Context, upstreamSub string) (*User, error)
	// Update loads the user, applies fn and saves it in one transaction.
	Update(ctx context.Context, id string, fn func(*User) error) error
}
