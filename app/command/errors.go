package command

import "github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"

func isNotFound(err error) bool { return err != nil && errs.KindOf(err) == errs.KindNotFound }
