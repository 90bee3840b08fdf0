package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	porthttp "github.com/custom-gpt-adapter/custom-gpt-adapter/ports/http"
	portmcp "github.com/custom-gpt-adapter/custom-gpt-adapter/ports/mcp"
)

// Handler is the HTTP API with the authorization server, which it builds.
func (s *Service) Handler() (http.Handler, error) {
	authz, err := s.authorizationServer()
	if err != nil {
		return nil, err
	}
	privacy, err := porthttp.LoadPrivacyPolicy(s.cfg.PrivacyPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("CUSTOM_GPT_PRIVACY_POLICY_FILE: %w", err)
	}
	cfg := s.httpConfig()
	cfg.Privacy, cfg.OAuth = privacy, authz.Handler
	cfg.MCP = portmcp.NewHandler(s.app, portmcp.Config{Logger: s.log, PublicURL: s.cfg.PublicURL})
	cfg.AdminElsewhere = s.cfg.Edge.AdminAddr != ""
	// Expired keys are purged by every 100th request that carries one.
	cfg.Idempotency = postgres.NewIdempotencyStore(s.infra.Pool, postgres.IdempotencyConfig{})
	return porthttp.NewHandler(s.app, cfg), nil
}

// httpConfig is what every listener of the HTTP port shares.
func (s *Service) httpConfig() porthttp.Config {
	return porthttp.Config{
		PublicURL:    s.cfg.PublicURL,
		AdminToken:   s.cfg.AdminToken,
		Proxies:      porthttp.Proxies{Ranges: s.cfg.Edge.TrustedProxies, Header: s.cfg.Edge.ForwardedHeader},
		Ready:        s.ready,
		Gatherer:     s.infra.Registry,
		Registerer:   s.infra.Registry,
		Logger:       s.log,
		StreamPrefix: s.cfg.StreamPrefix,
		Tracer:       s.infra.Tracer,
	}
}

// ready tells whether this instance can serve: Postgres and Redis answer,
// and each of its consumers can read its stream.
func (s *Service) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.infra.Pool.Ping(ctx); err != nil {
		return errors.New("postgres unreachable")
	}
	// A worker whose consumer cannot read its stream takes no commands, however
	// well Redis answers a PING; named first, it says which stream.
	if err := s.infra.Consumers.Check(); err != nil {
		return err
	}
	if err := redis.Ping(ctx, s.infra.Redis); err != nil {
		return errors.New("redis unreachable")
	}
	return nil
}

// RunAPI serves HTTP until ctx ends, then drains in-flight requests.
func (s *Service) RunAPI(ctx context.Context) error {
	h, err := s.Handler()
	if err != nil {
		return err
	}
	if s.cfg.Edge.AdminAddr == "" {
		return porthttp.Serve(ctx, "CUSTOM_GPT_HTTP_ADDR", s.cfg.HTTPAddr, h, s.log)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return porthttp.Serve(ctx, "CUSTOM_GPT_HTTP_ADDR", s.cfg.HTTPAddr, h, s.log) })
	g.Go(func() error {
		return porthttp.Serve(ctx, "CUSTOM_GPT_ADMIN_ADDR", s.cfg.Edge.AdminAddr, porthttp.NewAdminHandler(s.app, s.httpConfig()), s.log)
	})
	return g.Wait()
}

// RunOps serves /healthz, /readyz and /metrics on CUSTOM_GPT_WORKER_ADDR
// until ctx ends: what a worker without the API answers to its operators.
func (s *Service) RunOps(ctx context.Context) error {
	h := porthttp.NewOpsHandler(porthttp.Config{Ready: s.ready, Gatherer: s.infra.Registry, Logger: s.log})
	return porthttp.Serve(ctx, "CUSTOM_GPT_WORKER_ADDR", s.cfg.WorkerAddr, h, s.log)
}
