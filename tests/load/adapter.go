package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// adapter is the service under test: the real binary, built from this
// checkout, as separate api and worker processes.
type adapter struct {
	bin    string
	env    []string
	url    string // the API's base URL
	appID  string
	apiKey string
	keys   []string // API keys of the applications creates go round: apiKey first
	// The bench application as an OAuth client, and its end user: the
	// account and, once api runs, an access token from the code flow.
	clientSecret string
	user         endUser
	api          *process
	worker       *process
	// ready is how long each process took from its start to its first 200
	// from /readyz, migrations already applied: the issue asks for 300 ms.
	ready map[string]time.Duration
}

// buildAdapter builds the binary into the run's directory under tmp/.
func buildAdapter(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "custom-gpt-adapter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// adapterEnv is the environment of every adapter process: the caller's,
// without any CUSTOM_GPT_ setting of its own shell, and the README's
// variables set for this run. Everything else keeps its default.
func adapterEnv(db, prefix, bankURL, bankKey, httpAddr, workerAddr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUSTOM_GPT_") {
			env = append(env, kv)
		}
	}
	key := make([]byte, 32) // CUSTOM_GPT_SECRETS_KEY: 32 random bytes
	_, _ = rand.Read(key)
	return append(env,
		"CUSTOM_GPT_DATABASE_URL="+db,
		"CUSTOM_GPT_REDIS_URL="+redisURL,
		"CUSTOM_GPT_STREAM_PREFIX="+prefix,
		"CUSTOM_GPT_MEMORY_BANK_URL="+bankURL,
		"CUSTOM_GPT_MEMORY_BANK_FLAVOR=mem0-oss",
		"CUSTOM_GPT_MEMORY_BANK_API_KEY="+bankKey,
		"CUSTOM_GPT_HTTP_ADDR="+httpAddr,
		"CUSTOM_GPT_WORKER_ADDR="+workerAddr,
		"CUSTOM_GPT_SECRETS_KEY="+base64.StdEncoding.EncodeToString(key),
		"CUSTOM_GPT_LOG_LEVEL=warn",
	)
}

// cli runs one command of the binary to completion and returns its stdout.
func (a *adapter) cli(ctx context.Context, args ...string) ([]byte, error) {
	return a.cliWithInput(ctx, nil, args...)
}

// cliWithInput is cli with stdin: users create reads the password there.
func (a *adapter) cliWithInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.env
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// Rate limits as high as set-limits takes (domain/application's
// MaxRatePerSecond and MaxBurst): far above what two cores serve, so no
// request is refused and the cost measured is the check itself.
const (
	maxRPS   = "10000"
	maxBurst = "100000"
)

// setUp migrates the database and registers the applications the load uses:
// bench, whose scope the API key's searches read and whose end user signs
// in for the end user's rows, and scopes-1 more for the API key's creates.
func (a *adapter) setUp(ctx context.Context, scopes int) error {
	if _, err := a.cli(ctx, "migrate"); err != nil {
		return err
	}
	for i := range max(scopes, 1) {
		name, redirectURIs := "bench", []string{callbackURI}
		if i > 0 {
			name, redirectURIs = fmt.Sprintf("bench-%d", i+1), nil
		}
		app, err := a.createApp(ctx, name, redirectURIs...)
		if err != nil {
			return err
		}
		if i == 0 {
			a.appID, a.apiKey, a.clientSecret = app.AppID, app.APIKey, app.ClientSecret
		}
		a.keys = append(a.keys, app.APIKey)
	}
	var err error
	a.user, err = a.createUser(ctx)
	return err
}

// createdApp is what apps create prints once: the credentials.
type createdApp struct {
	AppID        string `json:"app_id"`
	APIKey       string `json:"api_key"`
	ClientSecret string `json:"client_secret"`
}

// createApp registers an application with rate limits that refuse nothing:
// its own budget and each end user's, since an end user's request spends
// both.
func (a *adapter) createApp(ctx context.Context, name string, redirectURIs ...string) (createdApp, error) {
	args := []string{"apps", "create", "--name", name}
	for _, u := range redirectURIs {
		args = append(args, "--redirect-uri", u)
	}
	out, err := a.cli(ctx, args...)
	if err != nil {
		return createdApp{}, err
	}
	var created createdApp
	if err := json.Unmarshal(out, &created); err != nil || created.AppID == "" || created.APIKey == "" || created.ClientSecret == "" {
		return createdApp{}, fmt.Errorf("apps create printed %q (%v)", out, err)
	}
	_, err = a.cli(ctx, "apps", "set-limits", created.AppID,
		"--rps", maxRPS, "--burst", maxBurst, "--user-rps", maxRPS, "--user-burst", maxBurst)
	return created, err
}

// start runs api and worker, each until it answers /readyz.
func (a *adapter) start(ctx context.Context, dir, httpAddr, workerAddr string, st *stack) error {
	for _, role := range []string{"api", "worker"} {
		cmd := exec.Command(a.bin, role)
		cmd.Env = a.env
		p, err := startProcess(role, cmd, filepath.Join(dir, role+".log"), syscall.SIGKILL)
		if err != nil {
			return err
		}
		// Its own grace is 25 s; nothing is in flight once the load has stopped.
		st.push(role, func() error { return p.stop(syscall.SIGTERM, 30*time.Second) })
		addr := httpAddr
		if role == "worker" {
			a.worker, addr = p, workerAddr
		} else {
			a.api = p
		}
		if err := p.awaitHTTP(ctx, "http://"+addr+"/readyz", 30*time.Second); err != nil {
			return err
		}
		if a.ready == nil {
			a.ready = map[string]time.Duration{}
		}
		a.ready[role] = time.Since(p.began)
	}
	return nil
}

// logErrors counts the error lines a process logged (JSON logs, level ERROR).
func logErrors(p *process) int { return errorLines(p, nil) }

// logTimeouts counts the error lines p logged so far for a read or write
// that ran past its deadline.
func logTimeouts(p *process) int { return errorLines(p, []byte("i/o timeout")) }

// errorLines counts the lines of p's log at level ERROR that hold with.
func errorLines(p *process, with []byte) int {
	raw, err := os.ReadFile(p.log)
	if err != nil {
		return 0
	}
	n := 0
	for line := range bytes.Lines(raw) {
		if bytes.Contains(line, []byte(`"level":"ERROR"`)) && bytes.Contains(line, with) {
			n++
		}
	}
	return n
}
