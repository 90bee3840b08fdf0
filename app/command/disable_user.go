package command

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// DisableUser stops an end user from signing in and revokes every token
// issued for them, so their GPTs lose access at once, not when tokens expire.
// User is an email when it holds an "@" (user ids never do), else a user id.
type DisableUser struct{ User string }

type DisableUserHandler decorator.CommandHandler[DisableUser]

// GrantRevoker ends every OAuth grant of a subject, with all its tokens.
type GrantRevoker interface {
	RevokeGrantsOfSubject(ctx context.Context, subject string, now time.Time) error
}

type disableUserHandler struct {
	users  user.Repository
	grants GrantRevoker // nil: nothing to revoke
}

func NewDisableUserHandler(users user.Repository, grants GrantRevoker, log *slog.Logger, m *decorator.Metrics) DisableUserHandler {
	return decorator.ApplyCommandDecorators[DisableUser](disableUserHandler{users: users, grants: grants}, log, m)
}

func (h disableUserHandler) Handle(ctx context.Context, c DisableUser) error {
	var u *user.User
	var err error
	if strings.Contains(c.User, "@") {
		u, err = h.users.ByEmail(ctx, c.User)
	} else {
		u, err = h.users.Get(ctx, c.User)
	}
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
