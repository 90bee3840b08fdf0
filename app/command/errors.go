package command

import "github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"

func isNotFound(err error) bool { return err != nil && errs.KindOf(err) == errs.KindNotFound }

var errNoWebhook = errs.NotFound("webhook-not-found", "the application has no webhook; register one with apps set-webhook")
