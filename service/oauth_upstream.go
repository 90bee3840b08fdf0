package service

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/oauth"
)

// upstreamSignIn is the login page's "Sign in with …" provider, or nil when
// none is configured.
func (s *Service) upstreamSignIn() *oauth.Upstream {
	u := s.cfg.UpstreamOIDC
	if !u.Enabled() {
		return nil
	}
	h := command.NewSignInUpstreamUserHandler(postgres.NewUserRepository(s.pool), s.log, s.metrics)
	return &oauth.Upstream{Issuer: u.Issuer, ClientID: u.ClientID, ClientSecret: u.ClientSecret, Name: u.Name,
		Users: upstreamUsers{h}}
}

type upstreamUsers struct {
	h command.SignInUpstreamUserHandler
}

func (u upstreamUsers) SignInUpstreamUser(ctx context.Context, id oauth.UpstreamIdentity) (string, error) {
	return u.h.Handle(ctx, command.SignInUpstreamUser{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, EmailVerified: id.EmailVerified})
}
