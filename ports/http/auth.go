package http

import (
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// authenticate resolves the bearer credential to a caller. Every credential kind
// (an application's API key, an end user's OAuth access token) ends here as one
// query.Caller, so the handlers behind never know how the caller signed in.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.app.Queries.Authenticate.Handle(r.Context(), query.Authenticate{Credential: request.BearerToken(r)})
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(request.WithCaller(r.Context(), caller)))
	})
}

// requireScope refuses a caller whose token lacks scope (RFC 6750 3.1). API
// keys carry every scope.
func requireScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !request.Caller(r.Context()).Allows(scope) {
				writeError(w, r, &errs.Error{Kind: errs.KindForbidden, Slug: "insufficient-scope", Field: scope,
					Detail: "the access token lacks the scope " + scope})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// adminOnly guards the admin API with the configured token; the use case
// counts and audits failed attempts per client address.
func (s *Server) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.app.Commands.AuthenticateAdmin.Handle(r.Context(), command.AuthenticateAdmin{
			Token: request.BearerToken(r), Address: ClientIP(r), RequestID: request.ID(r.Context()),
			Method: r.Method, Path: r.URL.Path,
		})
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
