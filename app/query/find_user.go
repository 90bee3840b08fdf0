package query

import (
	"context"
	"log/slog"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// FindUser finds an end-user account. User is an email when it holds an "@"
// (user ids never do), else a user id; errs.KindNotFound when none.
type FindUser struct{ User string }

type FindUserHandler decorator.QueryHandler[FindUser, *user.User]

type findUserHandler struct{ users user.Repository }

func NewFindUserHandler(users user.Repository, log *slog.Logger, m *decorator.Metrics) FindUserHandler {
	return decorator.ApplyQueryDecorators[FindUser, *user.User](findUserHandler{users: users}, log, m)
}

func (h findUserHandler) Handle(ctx context.Context, q FindUser) (*user.User, error) {
	if strings.Contains(q.User, "@") {
		return h.users.ByEmail(ctx, q.User)
	}
	return h.users.Get(ctx, q.User)
}
