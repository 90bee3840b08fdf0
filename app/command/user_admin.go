package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// GrantRevoker ends every OAuth grant of a subject, with all its tokens.
type GrantRevoker interface {
	RevokeGrantsOfSubject(ctx context.Context, subject string, now time.Time) error
}

// UserAdmin manages end-user accounts from the command line.
type UserAdmin struct {
	users  user.Repository
	grants GrantRevoker // nil: nothing to revoke
}

func NewUserAdmin(users user.Repository, grants GrantRevoker) UserAdmin {
	return UserAdmin{users: users, grants: grants}
}

// Create stores a new active local account; only an argon2id hash of the
// password is kept. The id is a UUIDv7, so ids sort by creation time.
func (h UserAdmin) Create(ctx context.Context, email, password string) (*user.User, error) {
	if err := user.ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := user.HashPassword(password)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("generate user id: %w", err)
	}
	u, err := user.New(id.String(), email, hash, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	if err := h.users.Add(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Disable stops a user from signing in and revokes every token issued for
// them, so a disabled user's GPTs lose access at once, not when tokens expire.
// idOrEmail is an email when it holds an "@" (user ids never do), else a user id.
func (h UserAdmin) Disable(ctx context.Context, idOrEmail string) error {
	u, err := h.Find(ctx, idOrEmail)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	err = h.users.Update(ctx, u.ID(), func(u *user.User) error {
		u.Disable(now)
		return nil
	})
	if err != nil || h.grants == nil {
		return err
	}
	return h.grants.RevokeGrantsOfSubject(ctx, u.ID(), now)
}

// Find returns the user with that id or email; errs.KindNotFound when none.
func (h UserAdmin) Find(ctx context.Context, idOrEmail string) (*user.User, error) {
	if strings.Contains(idOrEmail, "@") {
		return h.users.ByEmail(ctx, idOrEmail)
	}
	return h.users.Get(ctx, idOrEmail)
}
