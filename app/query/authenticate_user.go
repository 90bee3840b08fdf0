package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// AuthenticateUser checks an end user's email and password at sign-in; the
// handler returns the user's id.
type AuthenticateUser struct {
	Email    string
	Password string
}

// UserFinder looks users up by email, case-insensitively; errs.KindNotFound
// when there is none. user.Repository is one.
type UserFinder interface {
	ByEmail(ctx context.Context, email string) (*user.User, error)
}

type AuthenticateUserHandler decorator.QueryHandler[AuthenticateUser, string]

type authenticateUserHandler struct{ users UserFinder }

func NewAuthenticateUserHandler(users UserFinder, log *slog.Logger, m *decorator.Metrics) AuthenticateUserHandler {
	return decorator.ApplyQueryDecorators[AuthenticateUser, string](authenticateUserHandler{users: users}, log, m)
}

// maxPasswordBytes is the most a password of user.MaxPasswordChars characters
// can take in UTF-8; no account can have a longer one.
const maxPasswordBytes = 4 * user.MaxPasswordChars

// invalidLogin is the one answer for an unknown email, a wrong password and an
// account that cannot sign in with a password: telling them apart would tell
// an attacker which emails have accounts. cause, if any, reaches the logs only.
func invalidLogin(cause error) error {
	return &errs.Error{Kind: errs.KindUnauthorized, Slug: "invalid-login", Detail: "the email or password is wrong", Err: cause}
}

// Handle spends one password verification on every path that reaches the
// password check, so its timing does not reveal whether the email exists. A
// disabled account is reported only to whoever knows its password.
func (h authenticateUserHandler) Handle(ctx context.Context, q AuthenticateUser) (string, error) {
	if len(q.Password) > maxPasswordBytes {
		user.DummyVerify()
		return "", invalidLogin(nil)
	}
	u, err := h.users.ByEmail(ctx, q.Email)
	if errs.KindOf(err) == errs.KindNotFound {
		user.DummyVerify()
		return "", invalidLogin(nil)
	}
	if err != nil {
		return "", err
	}
	if u.PasswordHash() == "" { // signs in through the upstream provider only
		user.DummyVerify()
		return "", invalidLogin(nil)
	}
	ok, err := user.VerifyPassword(q.Password, u.PasswordHash())
	if err != nil {
		user.DummyVerify() // a malformed hash fails before hashing
		return "", invalidLogin(err)
	}
	if !ok {
		return "", invalidLogin(nil)
	}
	if err := u.Authorize(); err != nil {
		return "", err
	}
	return u.ID(), nil
}
