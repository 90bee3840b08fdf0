package request

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
)

type callerKey struct{}

// WithCaller carries who the request acts for, once authenticated.
func WithCaller(ctx context.Context, c query.Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// Caller returns who the request acts for; the zero Caller before
// authentication.
func Caller(ctx context.Context) query.Caller {
	c, _ := ctx.Value(callerKey{}).(query.Caller)
	return c
}
