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
	api    *process
	worker *process
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
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.env
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
// bench, whose scope the searches read, and scopes-1 more for the creates.
func (a *adapter) setUp(ctx context.Context, scopes int) error {
	if _, err := a.cli(ctx, "migrate"); err != nil {
		return err
	}
	for i := range max(scopes, 1) {
		name := "bench"
		if i > 0 {
			name = fmt.Sprintf("bench-%d", i+1)
		}
		id, key, err := a.createApp(ctx, name)
		if err != nil {
			return err
		}
		if i == 0 {
			a.appID, a.apiKey = id, key
		}
		a.keys = append(a.keys, key)
	}
	return nil
}

// createApp registers an application with rate limits that refuse nothing.
func (a *adapter) createApp(ctx context.Context, name string) (id, key string, err error) {
	out, err := a.cli(ctx, "apps", "create", "--name", name)
	if err != nil {
		return "", "", err
	}
	var created struct {
		AppID  string `json:"app_id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.AppID == "" || created.APIKey == "" {
		return "", "", fmt.Errorf("apps create printed %q (%v)", out, err)
	}
	_, err = a.cli(ctx, "apps", "set-limits", created.AppID,
		"--rps", maxRPS, "--burst", maxBurst, "--user-rps", maxRPS, "--user-burst", maxBurst)
	return created.AppID, created.APIKey, err
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
func logErrors(p *process) int {
	f, err := os.Open(p.log)
	if err != nil {
		return 0
	}
	defer f.Close()
	raw, _ := io.ReadAll(f)
	return bytes.Count(raw, []byte(`"level":"ERROR"`))
}
