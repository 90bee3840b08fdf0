package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// CreateUser stores a new active local account; only an argon2id hash of the
// password is kept.
type CreateUser struct {
	Email    string
	Password string
}

// CreateUserHandler answers with the account it made, so it is shaped like a
// query.
type CreateUserHandler decorator.QueryHandler[CreateUser, *user.User]

type createUserHandler struct{ users user.Repository }

func NewCreateUserHandler(users user.Repository, log *slog.Logger, m *decorator.Metrics) CreateUserHandler {
	return decorator.ApplyQueryDecorators[CreateUser, *user.User](createUserHandler{users: users}, log, m)
}

// Handle gives the account a UUIDv7, so ids sort by creation time.
func (h createUserHandler) Handle(ctx context.Context, c CreateUser) (*user.User, error) {
	if err := user.ValidatePassword(c.Password); err != nil {
		return nil, err
	}
	hash, err := user.HashPassword(c.Password)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("generate user id: %w", err)
	}
	u, err := user.New(id.String(), c.Email, hash, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	if err := h.users.Add(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}
