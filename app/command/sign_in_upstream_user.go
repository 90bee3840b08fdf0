package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// SignInUpstreamUser is an end user whom the upstream OpenID provider has just
// signed in, as its verified ID token (or userinfo) describes them.
type SignInUpstreamUser struct {
	Issuer        string // the ID token's iss
	Subject       string // the ID token's sub
	Email         string
	EmailVerified bool
}

// SignInUpstreamUserHandler answers the id of the local user to start a
// session for. It has a query handler's shape because it returns that id; it
// writes only on a user's first sign-in, when it creates the account.
type SignInUpstreamUserHandler decorator.QueryHandler[SignInUpstreamUser, string]

// UpstreamUsers is the part of user.Repository this use case needs.
type UpstreamUsers interface {
	ByUpstreamSub(ctx context.Context, upstreamSub string) (*user.User, error)
	Add(ctx context.Context, u *user.User) error
}

type signInUpstreamUserHandler struct{ users UpstreamUsers }

func NewSignInUpstreamUserHandler(users UpstreamUsers, log *slog.Logger, m *decorator.Metrics) SignInUpstreamUserHandler {
	return decorator.ApplyQueryDecorators[SignInUpstreamUser, string](signInUpstreamUserHandler{users: users}, log, m)
}

// ErrUpstreamEmailTaken refuses a first upstream sign-in whose email already
// belongs to an account here (see Handle for why it is never linked).
var ErrUpstreamEmailTaken = &errs.Error{Kind: errs.KindConflict, Slug: "upstream-email-taken", Field: "email",
	Detail: "an account with this email already exists here; it is not linked to the upstream account"}

// Handle finds the local user by upstream issuer and subject, the only stable
// identifier OpenID Connect gives (emails change and get reassigned), and
// creates it on the first sign-in. A disabled user is refused.
//
// It never links an upstream account to an existing account by email, even
// when the provider says email_verified. Linking would hand the local account
// (its memories in every connected GPT) to whoever controls that address at the
// provider: an address recycled by the employer or mail host, a provider that
// lets users set an email it does not really verify, or an issuer configured
// later than the local account was created. The cost is that a person with
// both a password account and an upstream account must keep using the
// password, and an operator who wants them merged has to do it deliberately.
//
// A first sign-in also requires email_verified: the address becomes the
// account's email (shown on the consent page, unique here, used by `users
// disable`), and an unverified claim would let anyone reserve any address.
func (h signInUpstreamUserHandler) Handle(ctx context.Context, c SignInUpstreamUser) (string, error) {
	if c.Issuer == "" || c.Subject == "" {
		return "", errs.Invalid("sub", "upstream-subject-missing", "the upstream ID token has no issuer or subject")
	}
	sub := user.UpstreamSubject(c.Issuer, c.Subject)
	u, err := h.users.ByUpstreamSub(ctx, sub)
	if err == nil {
		return u.ID(), u.Authorize()
	}
	if errs.KindOf(err) != errs.KindNotFound {
		return "", err
	}

	if strings.TrimSpace(c.Email) == "" {
		return "", errs.Invalid("email", "upstream-email-missing", "the upstream provider did not share an email address")
	}
	if !c.EmailVerified {
		return "", errs.Invalid("email", "upstream-email-unverified", "the upstream provider has not verified this email address")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate user id: %w", err)
	}
	nu, err := user.NewUpstream(id.String(), c.Email, sub, time.Now().UTC())
	if err != nil {
		return "", err
	}
	err = h.users.Add(ctx, nu)
	var conflict *errs.Error
	if !errors.As(err, &conflict) || conflict.Kind != errs.KindConflict {
		if err != nil {
			return "", err
		}
		return nu.ID(), nil
	}
	// A concurrent first sign-in of the same person may have won; its row
	// collides on the subject and on the email, and the database reports
	// either. Look for it before blaming the email.
	if u, err := h.users.ByUpstreamSub(ctx, sub); err == nil {
		return u.ID(), u.Authorize()
	} else if errs.KindOf(err) != errs.KindNotFound {
		return "", err
	}
	if conflict.Field == "email" {
		return "", ErrUpstreamEmailTaken
	}
	return "", err
}
