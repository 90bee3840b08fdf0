package service

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/oauth"
)

// authorizationServer returns the OAuth server, built once on first use.
func (s *Service) authorizationServer() (*oauth.Server, error) {
	s.oauthOnce.Do(func() { s.oauth, s.oauthErr = s.newAuthorizationServer() })
	return s.oauth, s.oauthErr
}

// newAuthorizationServer builds the OAuth server over Postgres (requests,
// grants, keys, users, sessions) and Redis (rate limits shared by every instance).
func (s *Service) newAuthorizationServer() (*oauth.Server, error) {
	limiter := redis.NewLimiter(s.redis, s.cfg.StreamPrefix)
	loginLimit := redis.Limit{Rate: s.cfg.LoginRatePerMinute, Period: time.Minute, Burst: s.cfg.LoginRatePerMinute}
	srv, err := oauth.New(oauth.Config{
		Issuer:          s.cfg.PublicURL,
		AccessTokenTTL:  s.cfg.AccessTokenTTL,
		RefreshTokenTTL: s.cfg.RefreshTokenTTL,
		Apps:            postgres.NewApplicationRepository(s.pool),
		Store:           postgres.NewOAuthStore(s.pool),
		Keys:            s.keys,
		AccessTokens:    s.tokens,
		Users:           userAuthenticator{s.authUsers},
		Sessions:        postgres.NewSessionStore(s.pool),
		LoginLimiter:    loginLimiter{limiter: limiter, perAccount: loginLimit},
		Limiter:         newOAuthLimiter(limiter, s.cfg.TokenRate, s.cfg.OAuthGuards.AuthorizeRatePerMinute),
		CORSOrigins:     s.cfg.OAuthGuards.CORSOrigins,
		Health:          func(ctx context.Context) error { return s.pool.Ping(ctx) },
		Logger:          s.log,
		Upstream:        s.upstreamSignIn(),
		Export: func(ctx context.Context, w io.Writer, userID, email string) error {
			_, err := export.User(ctx, w, export.Queries{Spaces: s.app.Queries.MemorySpacesOfUser, Exports: s.app.Queries.ExportMemories},
				userID, email, "account-export-"+uuid.NewString())
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("CUSTOM_GPT_PUBLIC_URL: %w", err)
	}
	return srv, nil
}

type userAuthenticator struct{ h query.AuthenticateUserHandler }

func (u userAuthenticator) AuthenticateUser(ctx context.Context, email, password string) (string, error) {
	return u.h.Handle(ctx, query.AuthenticateUser{Email: email, Password: password})
}

// loginLimiter gives each account its budget and each address four times as
// much, since one address may be a whole office behind NAT.
type loginLimiter struct {
	limiter    *redis.Limiter
	perAccount redis.Limit
}

func (l loginLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	limit := l.perAccount
	if strings.HasPrefix(key, "login:address:") {
		limit.Rate, limit.Burst = 4*limit.Rate, 4*limit.Burst
	}
	d, err := l.limiter.Allow(ctx, key, limit)
	if err != nil {
		return 0, err
	}
	return d.RetryAfter, nil
}

// oauthLimiter keeps the authorization server's budgets in Redis, shared by
// every API instance. An authenticated client may make tokenRate token
// requests a second (bursts of twice that), and as many failed
// authentications may name it; an address gets four times that for its
// failures, since one address may be a whole office behind NAT, or the egress
// of ChatGPT itself.
type oauthLimiter struct {
	limiter *redis.Limiter
	limits  map[oauth.Budget]redis.Limit
}

func newOAuthLimiter(limiter *redis.Limiter, tokenRate, authorizePerMinute int) oauthLimiter {
	perClient := redis.Limit{Rate: tokenRate, Period: time.Second, Burst: 2 * tokenRate}
	return oauthLimiter{limiter: limiter, limits: map[oauth.Budget]redis.Limit{
		oauth.BudgetClient:        perClient,
		oauth.BudgetFailedClient:  perClient,
		oauth.BudgetFailedAddress: {Rate: 4 * tokenRate, Period: time.Second, Burst: 8 * tokenRate},
		oauth.BudgetAuthorize:     {Rate: authorizePerMinute, Period: time.Minute, Burst: authorizePerMinute},
	}}
}

func (l oauthLimiter) Allow(ctx context.Context, budget oauth.Budget, key string) (time.Duration, error) {
	limit, ok := l.limits[budget]
	if !ok {
		return 0, fmt.Errorf("no limit for budget %q", budget)
	}
	d, err := l.limiter.Allow(ctx, string(budget)+":"+key, limit)
	if err != nil {
		return 0, err
	}
	return d.RetryAfter, nil
}

// RotateSigningKey adds a new signing key; the previous one keeps verifying
// until the last access token it signed has expired.
func (s *Service) RotateSigningKey(ctx context.Context) (jwt.Key, error) {
	return s.keys.Rotate(ctx, s.cfg.AccessTokenTTL)
}
