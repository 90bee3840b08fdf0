package service

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
)

// Config is the whole configuration, read from CUSTOM_GPT_* environment
// variables in one place. Each field's variable and default is in the README.
type Config struct {
	DatabaseURL        string
	RedisURL           string
	RedisMode          redis.Mode
	StreamPrefix       string
	MemoryBankURL      string // empty: the embedded Memory Bank in Postgres
	MemoryBankFlavor   memorybank.Flavor
	MemoryBankAPIKey   string
	MemoryBankInfer    bool // let mem0 extract facts (0..n memories per add) instead of storing verbatim
	MemoryBankTimeout  time.Duration
	BreakerFailures    int
	BreakerOpenTimeout time.Duration
	HTTPAddr           string
	WorkerAddr         string // a worker-only process serves /healthz, /readyz, /metrics here; empty: not at all
	PublicURL          string // OAuth issuer and the API's audience
	AdminToken         string
	PrivacyPolicyFile  string // empty: the built-in policy
	SigningAlgorithm   string
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	TokenRate          int // per second: token requests of an authenticated client, failed authentications naming it (4× per address)
	LoginRatePerMinute int // sign-in attempts per minute per account (and 4× per address)
	AutoMigrate        bool
	LogLevel           slog.Level
	WorkerConcurrency  int
	WorkerClaimIdle    time.Duration
	WorkerLease        time.Duration
	ShutdownGrace      time.Duration // how long in-flight work may finish after SIGTERM
	RetryMax           int
	RetryInitial       time.Duration
	RetryMaxInterval   time.Duration
	OutboxPollInterval time.Duration
	OutboxRetention    time.Duration
	EventStreamMaxLen  int64
	DatabaseMaxConns   int32
	// CredentialCacheTTL is how long an accepted API key or access token is
	// remembered (query.CacheCredentials): the bound on revocations; 0: off.
	CredentialCacheTTL time.Duration
	UpstreamOIDC       UpstreamOIDC // optional sign-in through an upstream OpenID provider
	RateLimits         application.RateLimits
	Webhooks           Webhooks
	Protection         Protection // Memory Bank budget and dead-letter retention
	Edge               Edge       // trusted proxies, the admin listener
	Secrets            Secrets    // keys that encrypt the secrets kept in Postgres
	OAuthGuards        OAuthGuards
	// Tracing sends traces to the OTLP endpoint of the OTEL_* variables
	// (loadTracing); off, no span is made at all.
	Tracing bool
}

var streamPrefixRE = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)

// LoadConfig reads and validates the configuration. Every problem is reported at
// once, each naming its variable, so a bad deployment fails at start, not later.
func LoadConfig(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		DatabaseURL:        p.str("CUSTOM_GPT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/custom_gpt?sslmode=disable"),
		RedisURL:           p.str("CUSTOM_GPT_REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisMode:          redis.Mode(p.str("CUSTOM_GPT_REDIS_MODE", string(redis.ModeSingle))),
		StreamPrefix:       p.str("CUSTOM_GPT_STREAM_PREFIX", "custom_gpt"),
		MemoryBankURL:      p.str("CUSTOM_GPT_MEMORY_BANK_URL", ""),
		MemoryBankFlavor:   memorybank.Flavor(p.str("CUSTOM_GPT_MEMORY_BANK_FLAVOR", string(memorybank.FlavorOSS))),
		MemoryBankAPIKey:   p.str("CUSTOM_GPT_MEMORY_BANK_API_KEY", ""),
		MemoryBankInfer:    p.boolean("CUSTOM_GPT_MEMORY_BANK_INFER", false),
		MemoryBankTimeout:  p.duration("CUSTOM_GPT_MEMORY_BANK_TIMEOUT", 10*time.Second),
		BreakerFailures:    p.integer("CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES", 5, 1, 1000),
		BreakerOpenTimeout: p.duration("CUSTOM_GPT_MEMORY_BANK_BREAKER_OPEN", 30*time.Second),
		HTTPAddr:           p.str("CUSTOM_GPT_HTTP_ADDR", "127.0.0.1:8080"),
		WorkerAddr:         p.str("CUSTOM_GPT_WORKER_ADDR", ""),
		AdminToken:         p.str("CUSTOM_GPT_ADMIN_TOKEN", ""),
		PrivacyPolicyFile:  p.str("CUSTOM_GPT_PRIVACY_POLICY_FILE", ""),
		SigningAlgorithm:   p.str("CUSTOM_GPT_SIGNING_ALG", "ES256"),
		AccessTokenTTL:     p.duration("CUSTOM_GPT_ACCESS_TOKEN_TTL", time.Hour),
		RefreshTokenTTL:    p.duration("CUSTOM_GPT_REFRESH_TOKEN_TTL", 30*24*time.Hour),
		TokenRate:          p.integer("CUSTOM_GPT_TOKEN_RATE", 10, 1, 100000),
		LoginRatePerMinute: p.integer("CUSTOM_GPT_LOGIN_RATE", 5, 1, 10000),
		AutoMigrate:        p.boolean("CUSTOM_GPT_AUTO_MIGRATE", false),
		LogLevel:           p.level("CUSTOM_GPT_LOG_LEVEL", slog.LevelInfo),
		WorkerConcurrency:  p.integer("CUSTOM_GPT_WORKER_CONCURRENCY", 8, 1, 256),
		WorkerClaimIdle:    p.duration("CUSTOM_GPT_WORKER_CLAIM_IDLE", 2*time.Minute),
		WorkerLease:        p.duration("CUSTOM_GPT_WORKER_LEASE", 30*time.Second),
		ShutdownGrace:      p.duration("CUSTOM_GPT_SHUTDOWN_GRACE", 25*time.Second),
		RetryMax:           p.integer("CUSTOM_GPT_RETRY_MAX", 8, 0, 100),
		RetryInitial:       p.duration("CUSTOM_GPT_RETRY_INITIAL", 250*time.Millisecond),
		RetryMaxInterval:   p.duration("CUSTOM_GPT_RETRY_MAX_INTERVAL", 15*time.Second),
		OutboxPollInterval: p.duration("CUSTOM_GPT_OUTBOX_POLL_INTERVAL", 100*time.Millisecond),
		OutboxRetention:    p.duration("CUSTOM_GPT_OUTBOX_RETENTION", 7*24*time.Hour),
		EventStreamMaxLen:  int64(p.integer("CUSTOM_GPT_EVENT_STREAM_MAXLEN", 1_000_000, 0, 1<<40)),
		DatabaseMaxConns:   int32(p.integer("CUSTOM_GPT_DATABASE_MAX_CONNS", 20, 1, 1000)),
		CredentialCacheTTL: p.durationUpTo("CUSTOM_GPT_CREDENTIAL_CACHE_TTL", time.Second, 10*time.Second),
	}
	c.PublicURL = strings.TrimSuffix(p.str("CUSTOM_GPT_PUBLIC_URL", localURL(c.HTTPAddr)), "/")
	c.UpstreamOIDC = loadUpstreamOIDC(&p)
	c.RateLimits = loadRateLimits(&p)
	c.Webhooks = loadWebhooks(&p)
	c.Protection = loadProtection(&p)
	c.Edge = loadEdge(&p)
	c.Secrets = loadSecrets(&p)
	c.OAuthGuards = loadOAuthGuards(&p)
	c.Tracing = loadTracing(&p)
	c.validate(&p)
	return c, errors.Join(p.errs...)
}

func (c Config) validate(p *parser) {
	if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil || !strings.Contains(c.DatabaseURL, "://") {
		p.fail("CUSTOM_GPT_DATABASE_URL", "must be a postgres:// URL")
	}
	switch c.RedisMode {
	case redis.ModeSingle, redis.ModeSentinel, redis.ModeCluster:
		if _, err := redis.ParseURL(c.RedisURL, c.RedisMode); err != nil {
			p.fail("CUSTOM_GPT_REDIS_URL", fmt.Sprintf("must be a redis:// or rediss:// URL for %s mode: %v", c.RedisMode, err))
		}
	default:
		p.fail("CUSTOM_GPT_REDIS_MODE", "must be single, sentinel or cluster")
	}
	if !streamPrefixRE.MatchString(c.StreamPrefix) {
		p.fail("CUSTOM_GPT_STREAM_PREFIX", "must be 1 to 64 letters, digits, '_', '-' or '.'")
	}
	if c.MemoryBankURL != "" {
		u, err := url.Parse(c.MemoryBankURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.fail("CUSTOM_GPT_MEMORY_BANK_URL", "must be an http:// or https:// URL")
		}
	}
	if c.MemoryBankFlavor != memorybank.FlavorOSS && c.MemoryBankFlavor != memorybank.FlavorPlatform {
		p.fail("CUSTOM_GPT_MEMORY_BANK_FLAVOR", "must be mem0-oss or mem0-platform")
	}
	if c.MemoryBankURL != "" && c.MemoryBankFlavor == memorybank.FlavorPlatform && c.MemoryBankAPIKey == "" {
		p.fail("CUSTOM_GPT_MEMORY_BANK_API_KEY", "is required for the mem0-platform flavor")
	}
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
		p.fail("CUSTOM_GPT_HTTP_ADDR", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if _, port, err := net.SplitHostPort(c.WorkerAddr); c.WorkerAddr != "" && (err != nil || port == "") {
		p.fail("CUSTOM_GPT_WORKER_ADDR", "must be host:port, e.g. 0.0.0.0:9091, or empty")
	}
	if c.Edge.AdminAddr != "" && (c.Edge.AdminAddr == c.HTTPAddr || c.Edge.AdminAddr == c.WorkerAddr) {
		p.fail(envAdminAddr, "must differ from CUSTOM_GPT_HTTP_ADDR and CUSTOM_GPT_WORKER_ADDR")
	}
	if err := validatePublicURL(c.PublicURL); err != nil {
		p.fail("CUSTOM_GPT_PUBLIC_URL", err.Error())
	}
	if c.PrivacyPolicyFile != "" {
		if st, err := os.Stat(c.PrivacyPolicyFile); err != nil || st.IsDir() {
			p.fail("CUSTOM_GPT_PRIVACY_POLICY_FILE", "must name a readable file")
		}
	}
	if c.SigningAlgorithm != "ES256" && c.SigningAlgorithm != "RS256" {
		p.fail("CUSTOM_GPT_SIGNING_ALG", "must be ES256 or RS256")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		p.fail("CUSTOM_GPT_ADMIN_TOKEN", "must be at least 16 characters (or empty to turn the admin API off)")
	}
	if c.WorkerLease <= c.MemoryBankTimeout {
		p.fail("CUSTOM_GPT_WORKER_LEASE", "must be longer than CUSTOM_GPT_MEMORY_BANK_TIMEOUT")
	}
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, msg string) { p.errs = append(p.errs, fmt.Errorf("%s: %s", name, msg)) }

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, fmt.Sprintf("must be a positive duration such as 10s, got %q", v))
		return def
	}
	return d
}

// durationUpTo reads a duration from 0 (off) to hi.
func (p *parser) durationUpTo(name string, def, hi time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if v == "0" {
		d, err = 0, nil
	}
	if err != nil || d < 0 || d > hi {
		p.fail(name, fmt.Sprintf("must be a duration from 0 (off) to %s, got %q", hi, v))
		return def
	}
	return d
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("must be a whole number from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return def
	}
	return b
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return def
	}
	return l
}

// validatePublicURL: the issuer must be https, except on a loopback address for
// local use, and an origin without path, query or fragment (RFC 8414 requires
// the issuer in discovery to equal it exactly).
func validatePublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("must be an origin such as https://memory.example.com, without path or query")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return errors.New("must use https unless it is a loopback address")
	}
	return errors.New("must be an https URL")
}

// localURL is the default public URL: the listen address, with a wildcard host
// (0.0.0.0, ::, empty) replaced by localhost, so a container listening on all
// interfaces still gets a usable loopback issuer for a local trial.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
