// Package cli is the command line port: it parses a command's arguments, asks
// the Wiring it is given for a connected Runtime, and calls the application.
// It knows no adapter: the binary's main passes the wiring, built in service/.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
)

// Env is the process a command runs in: its environment and standard streams.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader // users create reads a password from it; nil reads nothing
	Stdout io.Writer // what scripts read: JSON, or the usage asked for
	Stderr io.Writer // logs, errors and wrong usage
	// SetDefaultLogger, when set, receives a serving process's logger for the
	// libraries that keep one logger per process (zitadel/oidc, go-redis).
	// The binary passes service.UseLogger; tests leave it nil, so the logs of
	// servers running side by side in one test process never cross.
	SetDefaultLogger func(*slog.Logger)
}

// Wiring reads the configuration from the environment and says how to connect
// to the rest of the service. Its error names every bad variable.
type Wiring func(getenv func(string) string) (Setup, error)

// Setup is a checked configuration, before anything is connected.
type Setup struct {
	LogLevel slog.Level
	// HTTPAddr is where the API listens; WorkerAddr where a worker without the
	// API serves /healthz, "" for nowhere.
	HTTPAddr, WorkerAddr string
	MemoryBank           MemoryBank
	// AutoMigrate makes serving processes migrate the database first.
	AutoMigrate bool
	// Migrate creates the database when it is missing and applies the pending
	// migrations; it returns how many it applied.
	Migrate func(ctx context.Context) (applied int, err error)
	// Connect connects to Postgres and Redis and builds the application. It
	// refuses a database that is not migrated, unless AutoMigrate is set.
	Connect func(ctx context.Context, log *slog.Logger) (Runtime, error)
}

// MemoryBank is what a serving process says about its Memory Bank at start.
type MemoryBank struct {
	Flavor   string    // "embedded" for the one in Postgres
	Warnings []Warning // settings that work but deserve a look
}

// Warning is a log line at WARN: its message and its attributes.
type Warning struct {
	Msg  string
	Args []any
}

// Runtime is the connected service.
type Runtime interface {
	App() app.Application
	// RunAPI serves HTTP until ctx ends, then drains in-flight requests; it
	// logs the address once it is bound.
	RunAPI(ctx context.Context) error
	// RunWorker consumes commands and runs the background loops until ctx ends.
	RunWorker(ctx context.Context) error
	// RunOps serves /healthz, /readyz and /metrics on WorkerAddr until ctx ends.
	RunOps(ctx context.Context) error
	RotateSigningKey(ctx context.Context) (SigningKey, error)
	// RewrapSecrets seals every stored secret with the current key.
	RewrapSecrets(ctx context.Context) (RewrapResult, error)
	Close()
}

// SigningKey is a token signing key, as `keys rotate` prints it.
type SigningKey struct {
	Algorithm string `json:"algorithm"`
	KID       string `json:"kid"`
}

// RewrapResult is what `keys rewrap` did, as it prints it.
type RewrapResult struct {
	KeyID     string `json:"key_id"`    // the key every secret is now sealed with
	Rewrapped int    `json:"rewrapped"` // rows moved from the previous key
	Encrypted int    `json:"encrypted"` // rows that were plain text
	Unchanged int    `json:"unchanged"` // rows already under the current key
}

// Run runs the command args names (without the program's name). A command
// line that does not fit is a *UsageError; help is printed to stdout and is
// no error.
func Run(ctx context.Context, args []string, env Env, wire Wiring) error {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	return commands().run(ctx, &call{env: env, wire: wire}, args)
}

// Main runs the command and returns the process's exit code: 0 when it
// succeeded (a server stopped by a signal included), 2 when the command line
// does not fit (its usage goes to stderr), 1 for any other failure.
func Main(ctx context.Context, args []string, env Env, wire Wiring) int {
	err := Run(ctx, args, env, wire)
	var u *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		if u.Err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", program, u)
		}
		fmt.Fprint(env.Stderr, u.Usage())
		return 2
	default:
		fmt.Fprintf(env.Stderr, "%s: %v\n", program, err)
		return 1
	}
}

// commands is the whole command tree.
func commands() *node {
	return group("", "Configuration is read from CUSTOM_GPT_* environment variables; see the README.",
		serveCommand("serve", "HTTP API and workers in one process", true, true),
		serveCommand("api", "HTTP API only", true, false),
		serveCommand("worker", "workers only (commands, poison stream, outbox relay, webhooks)", false, true),
		migrateCommand(),
		appsCommand(),
		webhooksCommand(),
		usersCommand(),
		keysCommand(),
		dlqCommand(),
		auditCommand(),
		healthcheckCommand(),
	)
}

// call is one run of a command: the process and the wiring.
type call struct {
	env  Env
	wire Wiring
}

// setup reads the configuration.
func (c *call) setup() (Setup, error) {
	s, err := c.wire(c.env.Getenv)
	if err != nil {
		return Setup{}, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return s, nil
}

// connect runs fn with a connected runtime, for one-shot commands.
func (c *call) connect(ctx context.Context, fn func(Runtime) error) error {
	s, err := c.setup()
	if err != nil {
		return err
	}
	rt, err := s.Connect(ctx, newLogger(c.env.Stderr, s.LogLevel))
	if err != nil {
		return err
	}
	defer rt.Close()
	return fn(rt)
}
