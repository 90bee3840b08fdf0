package command

import (
	"context"
	"fmt"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

func isNotFound(err error) bool { return err != nil && errs.KindOf(err) == errs.KindNotFound }

var errNoWebhook = errs.NotFound("webhook-not-found", "the application has no webhook; register one with apps set-webhook")

// errMemoryGone is a memory the caller's scope no longer holds: missing and
// someone else's are one answer.
var errMemoryGone = errs.NotFound("memory-not-found", "no memory with this id")

// mustOwn answers errMemoryGone unless the registry says memory id is one of
// the caller's: a write about another scope's memory, or one that no longer
// exists, is refused before anything is written.
func mustOwn(ctx context.Context, registry Registry, appID, endUser, id string) error {
	scope, err := memory.NewScope(appID, endUser)
	if err != nil {
		return err
	}
	owned, err := registry.Owns(ctx, scope, id)
	if err != nil {
		return errs.Unavailable("registry-unavailable", "the memory could not be looked up; retry later", fmt.Errorf("look up memory: %w", err))
	}
	if !owned {
		return errMemoryGone
	}
	return nil
}
