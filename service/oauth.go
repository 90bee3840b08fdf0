package service

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/clientmetadata"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/oauth"
)

// authorizationServer builds the OAuth server over Postgres (requests,
// grants, keys, users, sessions) and Redis (rate limits shared by every
// instance). Only the API builds it: commands such as `apps create` start
// faster and quieter without.
func (s *Service) authorizationServer() (*oauth.Server, error) {
	cfg, in, a := s.cfg, s.infra, s.app
	var upstream *oauth.Upstream
	if u := cfg.UpstreamOIDC; u.Enabled() {
		upstream = &oauth.Upstream{Issuer: u.Issuer, ClientID: u.ClientID, ClientSecret: u.ClientSecret, Name: u.Name,
			Users: a.Commands.SignInUpstreamUser}
	}
	srv, err := oauth.New(oauth.Config{
		Issuer:          cfg.PublicURL,
		AccessTokenTTL:  cfg.AccessTokenTTL,
		RefreshTokenTTL: cfg.RefreshTokenTTL,
		Apps:            postgres.NewApplicationRepository(in.Pool),
		Store:           postgres.NewOAuthStore(in.Pool),
		Keys:            in.Keys,
		AccessTokens:    s.tokens,
		Users:           a.Queries.AuthenticateUser,
		Sessions:        postgres.NewSessionStore(in.Pool),
		Limiter:         redis.NewNamedBudgets(redis.NewLimiter(in.Redis, cfg.StreamPrefix), authorizationBudgets(cfg)),
		CORSOrigins:     cfg.OAuthGuards.CORSOrigins,
		Health:          func(ctx context.Context) error { return in.Pool.Ping(ctx) },
		Logger:          s.log,
		Upstream:        upstream,
		MetadataDocuments: clientmetadata.New(clientmetadata.Config{AllowPrivate: cfg.OAuthGuards.DocumentsAllowPrivate,
			UserAgent: "custom-gpt-adapter-oauth/1"}),
		Export: func(ctx context.Context, w io.Writer, userID, email string) error {
			_, err := export.User(ctx, w, export.Queries{Spaces: a.Queries.MemorySpacesOfUser, Exports: a.Queries.ExportMemories},
				userID, email, "account-export-"+uuid.NewString())
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("CUSTOM_GPT_PUBLIC_URL: %w", err)
	}
	return srv, nil
}

// authorizationBudgets are the authorization server's limits. An
// authenticated client may make CUSTOM_GPT_TOKEN_RATE token requests a
// second (bursts of twice that), and as many failed authentications may name
// it; an address gets four times that for its failures, and four times an
// account's password attempts, since one address may be a whole office
// behind NAT, or the egress of ChatGPT itself.
func authorizationBudgets(cfg Config) map[string]redis.Limit {
	perClient := redis.Limit{Rate: cfg.TokenRate, Period: time.Second, Burst: 2 * cfg.TokenRate}
	login := cfg.LoginRatePerMinute
	authorize := cfg.OAuthGuards.AuthorizeRatePerMinute
	return map[string]redis.Limit{
		string(oauth.BudgetClient):        perClient,
		string(oauth.BudgetFailedClient):  perClient,
		string(oauth.BudgetFailedAddress): {Rate: 4 * cfg.TokenRate, Period: time.Second, Burst: 8 * cfg.TokenRate},
		string(oauth.BudgetAuthorize):     {Rate: authorize, Period: time.Minute, Burst: authorize},
		string(oauth.BudgetLoginAccount):  {Rate: login, Period: time.Minute, Burst: login},
		string(oauth.BudgetLoginAddress):  {Rate: 4 * login, Period: time.Minute, Burst: 4 * login},
		string(oauth.BudgetRegister): {Rate: cfg.OAuthGuards.RegisterRatePerHour, Period: time.Hour,
			Burst: cfg.OAuthGuards.RegisterRatePerHour},
	}
}

// RotateSigningKey adds a new signing key; the previous one keeps verifying
// until the last access token it signed has expired.
func (s *Service) RotateSigningKey(ctx context.Context) (jwt.Key, error) {
	return s.infra.Keys.Rotate(ctx, s.cfg.AccessTokenTTL)
}
