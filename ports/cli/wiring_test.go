package cli

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
)

func noEnv(string) string { return "" }

// wiringOf connects every command to a runtime holding a.
func wiringOf(a app.Application) Wiring {
	return func(func(string) string) (Setup, error) {
		return Setup{Connect: func(context.Context, *slog.Logger) (Runtime, error) { return appOnly{a}, nil }}, nil
	}
}

// neverConnect is a wiring that fails the test when a command reads its
// configuration: help and wrong usage must be answered before.
func neverConnect(t *testing.T) Wiring {
	return func(func(string) string) (Setup, error) {
		t.Error("the command read its configuration")
		return Setup{}, errors.New("not configured in this test")
	}
}

// appOnly is a runtime with an application and nothing to run.
type appOnly struct{ a app.Application }

var errNotHere = errors.New("not in this test")

func (r appOnly) App() app.Application          { return r.a }
func (appOnly) RunAPI(context.Context) error    { return errNotHere }
func (appOnly) RunWorker(context.Context) error { return errNotHere }
func (appOnly) RunOps(context.Context) error    { return errNotHere }
func (appOnly) Close()                          {}
func (appOnly) RotateSigningKey(context.Context) (SigningKey, error) {
	return SigningKey{}, errNotHere
}
func (appOnly) RewrapSecrets(context.Context) (RewrapResult, error) {
	return RewrapResult{}, errNotHere
}
