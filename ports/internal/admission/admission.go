// Package admission spends a request's rate budgets the one way every
// HTTP-speaking port does.
package admission

import (
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// Spend spends the caller's budgets for r and audits a refusal (adm.Refused
// names the spent budget). A failed audit write is logged by the decorator
// and the refusal stands. An error is the limiter's own failure: the caller
// lets the request through (fail open) and counts it.
func Spend(r *http.Request, c app.Commands, caller query.Caller) (command.Admission, error) {
	adm, err := c.AdmitRequest.Handle(r.Context(), command.AdmitRequest{AppID: caller.AppID, EndUser: caller.EndUser, Limits: caller.Limits})
	if err != nil || adm.Refused == "" || c.RecordRateLimited == nil {
		return adm, err
	}
	_ = c.RecordRateLimited.Handle(r.Context(), command.RecordRateLimited{
		AppID: caller.AppID, EndUser: caller.EndUser, RequestID: request.ID(r.Context()),
		Budget: adm.Refused, Method: r.Method, Path: r.URL.Path,
	})
	return adm, nil
}
