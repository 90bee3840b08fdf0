// Package deploytest checks the deployment and developer-workflow files at the
// repository root (compose.yaml and what it mounts from deploy/, Dockerfile,
// Taskfile.yml, .ci/run) so that edits which break them are caught by
// `go test ./...`.
package deploytest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

const (
	repoRoot   = "../.."
	binaryPath = "/custom-gpt-adapter"
	testToken  = "deploytest-admin-token"
	// testSecretsKey is 32 bytes in base64, as CUSTOM_GPT_SECRETS_KEY must be.
	testSecretsKey = "ZGVwbG95dGVzdCBzZWNyZXRzIGtleSwgMzIgYnl0ZXM="
)

// composeEnv is what an operator exports before `docker compose up`.
func composeEnv() map[string]string {
	return map[string]string{"CUSTOM_GPT_ADMIN_TOKEN": testToken, "CUSTOM_GPT_SECRETS_KEY": testSecretsKey}
}

func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// loadCompose loads compose.yaml the way `docker compose` would, with env as
// the interpolation environment and profiles enabled.
func loadCompose(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	return loadComposeFiles(t, env, []string{"compose.yaml"}, profiles...)
}

// loadComposeFiles loads compose files the way `docker compose -f A -f B`
// would (each later file overrides the earlier ones), with profiles enabled.
func loadComposeFiles(t *testing.T, env map[string]string, names []string, profiles ...string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{WorkingDir: root, Environment: env}
	for _, name := range names {
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{
			Filename: filepath.Join(root, name),
			Content:  readRepoFile(t, name),
		})
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		// Not imperative: a file that names its project (compose.dev.yaml) keeps it.
		o.SetProjectName("custom-gpt-adapter", false)
		o.Profiles = profiles
	})
}

func TestComposeFile(t *testing.T) {
	project, err := loadCompose(t, composeEnv())
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}

	for _, name := range []string{"postgres", "redis", "migrate", "api", "worker"} {
		if _, ok := project.Services[name]; !ok {
			t.Errorf("compose.yaml: missing service %q", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	for name, want := range map[string]string{"migrate": "migrate", "api": "api", "worker": "worker"} {
		svc := project.Services[name]
		if got := []string(svc.Command); !slices.Equal(got, []string{want}) {
			t.Errorf("service %s: command = %q, want [%q]", name, got, want)
		}
		if svc.Build == nil && svc.Image == "" {
			t.Errorf("service %s: neither build nor image set", name)
		}
		if got := envValue(svc, "CUSTOM_GPT_ADMIN_TOKEN"); got != testToken {
			t.Errorf("service %s: CUSTOM_GPT_ADMIN_TOKEN = %q, want the interpolated %q", name, got, testToken)
		}
		if got := envValue(svc, "CUSTOM_GPT_SECRETS_KEY"); got != testSecretsKey {
			t.Errorf("service %s: CUSTOM_GPT_SECRETS_KEY = %q, want the interpolated %q", name, got, testSecretsKey)
		}
		for _, key := range []string{"CUSTOM_GPT_DATABASE_URL", "CUSTOM_GPT_REDIS_URL"} {
			if envValue(svc, key) == "" {
				t.Errorf("service %s: %s not set (shared x- environment missing?)", name, key)
			}
		}
	}

	redis := project.Services["redis"]
	if !hasFlagValue(redis.Command, "--appendonly", "yes") {
		t.Errorf("service redis: command %q does not enable --appendonly yes", redis.Command)
	}
	// A 202 promises the command survives a crash of Redis: fsync every write,
	// and never evict a stream.
	if !hasFlagValue(redis.Command, "--appendfsync", "always") {
		t.Errorf("service redis: command %q does not set --appendfsync always", redis.Command)
	}
	if !hasFlagValue(redis.Command, "--maxmemory-policy", "noeviction") {
		t.Errorf("service redis: command %q does not set --maxmemory-policy noeviction", redis.Command)
	}
	for _, name := range []string{"postgres", "redis"} {
		svc := project.Services[name]
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 {
			t.Errorf("service %s: no healthcheck", name)
		}
		if len(svc.Volumes) == 0 {
			t.Errorf("service %s: no volume for its data", name)
		}
	}

	migrate := project.Services["migrate"]
	if dep, ok := migrate.DependsOn["postgres"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("service migrate: depends_on postgres = %+v (present=%v), want condition %s", dep, ok, types.ServiceConditionHealthy)
	}
	if migrate.Restart != "" && migrate.Restart != types.RestartPolicyNo {
		t.Errorf("service migrate: restart = %q; a one-shot job must not be restarted", migrate.Restart)
	}

	for _, name := range []string{"api", "worker"} {
		svc := project.Services[name]
		if dep, ok := svc.DependsOn["migrate"]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("service %s: depends_on migrate = %+v (present=%v), want condition %s",
				name, dep, ok, types.ServiceConditionCompletedSuccessfully)
		}
		if dep, ok := svc.DependsOn["redis"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("service %s: depends_on redis = %+v (present=%v), want condition %s",
				name, dep, ok, types.ServiceConditionHealthy)
		}
	}

	api := project.Services["api"]
	if got := envValue(api, "CUSTOM_GPT_HTTP_ADDR"); got != "0.0.0.0:8080" {
		t.Errorf("service api: CUSTOM_GPT_HTTP_ADDR = %q, want 0.0.0.0:8080", got)
	}
	if !slices.ContainsFunc(api.Ports, func(p types.ServicePortConfig) bool { return p.Target == 8080 }) {
		t.Errorf("service api: container port 8080 not published (ports = %+v)", api.Ports)
	}
	// The admin surface is not on the public port: its own listener, reachable
	// from the host's loopback only.
	if got := envValue(api, "CUSTOM_GPT_ADMIN_ADDR"); got != "0.0.0.0:9090" ||
		!slices.ContainsFunc(api.Ports, func(p types.ServicePortConfig) bool { return p.Target == 9090 && p.HostIP == "127.0.0.1" }) {
		t.Errorf("service api: CUSTOM_GPT_ADMIN_ADDR = %q and ports %+v, want the admin listener on 9090 published on 127.0.0.1 only", got, api.Ports)
	}
	if api.HealthCheck == nil || !slices.Contains([]string(api.HealthCheck.Test), binaryPath) {
		t.Errorf("service api: healthcheck should run %s itself (the scratch image has no curl), got %+v", binaryPath, api.HealthCheck)
	}

	worker := project.Services["worker"]
	if envValue(worker, "CUSTOM_GPT_WORKER_ADDR") == "" || worker.HealthCheck == nil ||
		!slices.Equal([]string(worker.HealthCheck.Test), []string{"CMD", binaryPath, "healthcheck", "--worker"}) {
		t.Errorf("service worker: want CUSTOM_GPT_WORKER_ADDR and a `healthcheck --worker` healthcheck, got %+v", worker.HealthCheck)
	}
	// SIGTERM lets in-flight work finish for CUSTOM_GPT_SHUTDOWN_GRACE; compose
	// must not SIGKILL before that.
	for _, name := range []string{"api", "worker"} {
		svc := project.Services[name]
		cfg, err := service.LoadConfig(func(k string) string { return envValue(svc, k) })
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		if svc.StopGracePeriod == nil || time.Duration(*svc.StopGracePeriod) <= cfg.ShutdownGrace {
			t.Errorf("service %s: stop_grace_period %v is not longer than CUSTOM_GPT_SHUTDOWN_GRACE %v", name, svc.StopGracePeriod, cfg.ShutdownGrace)
		}
	}
}

func TestComposeRequiresAdminToken(t *testing.T) {
	_, err := loadCompose(t, map[string]string{"CUSTOM_GPT_SECRETS_KEY": testSecretsKey})
	if err == nil {
		t.Fatal("compose.yaml loaded without CUSTOM_GPT_ADMIN_TOKEN; it should be required")
	}
	if !strings.Contains(err.Error(), "CUSTOM_GPT_ADMIN_TOKEN") {
		t.Errorf("error does not mention CUSTOM_GPT_ADMIN_TOKEN: %v", err)
	}
}

// Compose runs real deployments: the key that encrypts the stored secrets
// must be given, never replaced by the development key.
func TestComposeRequiresSecretsKey(t *testing.T) {
	_, err := loadCompose(t, map[string]string{"CUSTOM_GPT_ADMIN_TOKEN": testToken})
	if err == nil {
		t.Fatal("compose.yaml loaded without CUSTOM_GPT_SECRETS_KEY; it should be required")
	}
	if !strings.Contains(err.Error(), "CUSTOM_GPT_SECRETS_KEY") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
		t.Errorf("error does not say how to make CUSTOM_GPT_SECRETS_KEY: %v", err)
	}
	project, err := loadCompose(t, composeEnv())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrate", "api", "worker"} {
		svc := project.Services[name]
		if v := envValue(svc, "CUSTOM_GPT_INSECURE_DEV"); v != "" {
			t.Errorf("service %s: CUSTOM_GPT_INSECURE_DEV=%q", name, v)
		}
		cfg, err := service.LoadConfig(func(k string) string { return envValue(svc, k) })
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		if _, development, err := cfg.Secrets.Keyring(); err != nil || development {
			t.Errorf("service %s: keyring: development %v, %v", name, development, err)
		}
	}
}

func envValue(svc types.ServiceConfig, key string) string {
	if v, ok := svc.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

// hasFlagValue reports whether args contains flag followed by value, either as
// two arguments or as "flag=value".
func hasFlagValue(args []string, flag, value string) bool {
	for i, a := range args {
		if a == flag+"="+value || (a == flag && i+1 < len(args) && args[i+1] == value) {
			return true
		}
	}
	return false
}

// dockerStage is one FROM ... section of the Dockerfile.
type dockerStage struct {
	from         string
	instructions []*parser.Node
}

func parseDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(readRepoFile(t, "Dockerfile")))
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	var stages []dockerStage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			st := dockerStage{}
			if n.Next != nil {
				st.from = n.Next.Value
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM
		}
		last := &stages[len(stages)-1]
		last.instructions = append(last.instructions, n)
	}
	return stages
}

// args returns the arguments of an instruction node.
func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d FROM stages, want a multi-stage build (>= 2)", len(stages))
	}

	cgoDisabled := false
	for _, st := range stages[:len(stages)-1] {
		for _, n := range st.instructions {
			switch strings.ToLower(n.Value) {
			case "run", "env", "arg":
				if slices.ContainsFunc(args(n), func(a string) bool { return strings.Contains(a, "CGO_ENABLED=0") }) {
					cgoDisabled = true
				}
			}
		}
	}
	if !cgoDisabled {
		t.Error("Dockerfile: build stage does not set CGO_ENABLED=0 (the runtime image has no libc)")
	}

	final := stages[len(stages)-1]
	var user string
	var entrypoint []string
	var entrypointJSON bool
	for _, n := range final.instructions {
		switch strings.ToLower(n.Value) {
		case "user":
			if a := args(n); len(a) > 0 {
				user = a[0]
			}
		case "entrypoint":
			entrypoint = args(n)
			entrypointJSON = n.Attributes["json"]
		}
	}
	switch name, _, _ := strings.Cut(user, ":"); name {
	case "":
		t.Errorf("Dockerfile: final stage (FROM %s) has no USER; it would run as root (uid 0)", final.from)
	case "root", "0":
		t.Errorf("Dockerfile: final stage runs as USER %q", user)
	}
	if len(entrypoint) == 0 {
		t.Fatalf("Dockerfile: final stage has no ENTRYPOINT")
	}
	if !entrypointJSON {
		t.Errorf("Dockerfile: ENTRYPOINT should use the exec (JSON) form; the runtime image has no shell")
	}
	if entrypoint[0] != binaryPath {
		t.Errorf("Dockerfile: ENTRYPOINT = %q, want the binary %s", entrypoint, binaryPath)
	}
}

// taskfile is the subset of Taskfile.yml (Task v3) the tests look at.
type taskfile struct {
	Version string                 `yaml:"version"`
	Tasks   map[string]taskfileDef `yaml:"tasks"`
}

type taskfileDef struct {
	Deps []any `yaml:"deps"`
	Cmds []any `yaml:"cmds"`
}

// commands returns the shell commands of a task (plain strings or {cmd: ...}).
func (d taskfileDef) commands() []string {
	var out []string
	for _, c := range d.Cmds {
		switch c := c.(type) {
		case string:
			out = append(out, c)
		case map[string]any:
			if s, ok := c["cmd"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// dependencies returns the names of the tasks a task depends on (plain strings
// or {task: ...}).
func (d taskfileDef) dependencies() []string {
	var out []string
	for _, dep := range d.Deps {
		switch dep := dep.(type) {
		case string:
			out = append(out, dep)
		case map[string]any:
			if s, ok := dep["task"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestTaskfile(t *testing.T) {
	var tf taskfile
	if err := yaml.Unmarshal(readRepoFile(t, "Taskfile.yml"), &tf); err != nil {
		t.Fatalf("parse Taskfile.yml: %v", err)
	}
	if tf.Version != "3" {
		t.Errorf("Taskfile.yml: version = %q, want 3", tf.Version)
	}
	for _, name := range []string{"run", "test", "lint", "migrate", "build", "bench", "deps"} {
		if _, ok := tf.Tasks[name]; !ok {
			t.Errorf("Taskfile.yml: missing task %q", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	const testCmd = "go test -race -count=1 -timeout 30m ./..."
	if !slices.ContainsFunc(tf.Tasks["test"].commands(), func(c string) bool { return strings.Contains(c, testCmd) }) {
		t.Errorf("Taskfile.yml: task test does not run %q (cmds %q)", testCmd, tf.Tasks["test"].commands())
	}
	for _, name := range []string{"run", "test"} {
		if !slices.Contains(tf.Tasks[name].dependencies(), "deps") {
			t.Errorf("Taskfile.yml: task %s does not depend on deps (local Postgres/Redis)", name)
		}
	}
	if !slices.ContainsFunc(tf.Tasks["deps"].commands(), func(c string) bool { return strings.Contains(c, "scripts/ensure-services.sh") }) {
		t.Errorf("Taskfile.yml: task deps does not run scripts/ensure-services.sh")
	}
	// Local runs need no key: the development key, which the service warns about.
	if !slices.ContainsFunc(tf.Tasks["run"].commands(), func(c string) bool {
		return strings.Contains(c, `CUSTOM_GPT_INSECURE_DEV="${CUSTOM_GPT_INSECURE_DEV:-true}"`)
	}) {
		t.Errorf("Taskfile.yml: task run does not set CUSTOM_GPT_INSECURE_DEV=true (cmds %q)", tf.Tasks["run"].commands())
	}
	// The Quick start's admin example needs a token: task run makes one.
	if !slices.ContainsFunc(tf.Tasks["run"].commands(), func(c string) bool {
		return strings.Contains(c, `if [ -z "${CUSTOM_GPT_ADMIN_TOKEN:-}" ]`) && strings.Contains(c, "export CUSTOM_GPT_ADMIN_TOKEN=")
	}) {
		t.Errorf("Taskfile.yml: task run does not set and print a local CUSTOM_GPT_ADMIN_TOKEN (cmds %q)", tf.Tasks["run"].commands())
	}
	// `go run` exits 1 when interrupted, whatever its program did: Ctrl-C on
	// task run would end in "Failed to run task".
	for _, c := range tf.Tasks["run"].commands() {
		if strings.Contains(c, "go run ") {
			t.Errorf("Taskfile.yml: task run uses go run: %q", c)
		}
	}
}

func TestCIRunsTaskTest(t *testing.T) {
	ci := string(readRepoFile(t, ".ci/run"))
	if !strings.Contains(ci, "\ngo tool task test\n") {
		t.Error(".ci/run does not run `go tool task test` (CI must run the documented test command)")
	}
	// The documented restore drill runs in CI, so it keeps working.
	if !strings.Contains(ci, "\nbash scripts/restore-drill.sh\n") {
		t.Error(".ci/run does not run scripts/restore-drill.sh")
	}
	for _, name := range []string{".ci/run", "scripts/ensure-services.sh", "scripts/restore-drill.sh"} {
		fi, err := os.Stat(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", name)
		}
	}
}

// The configuration compose gives each application container must pass the
// binary's own validation, or the container would stop at start.
func TestComposeEnvironmentIsValidConfiguration(t *testing.T) {
	project, err := loadCompose(t, composeEnv())
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	for _, name := range []string{"migrate", "api", "worker"} {
		svc := project.Services[name]
		if _, err := service.LoadConfig(func(k string) string { return envValue(svc, k) }); err != nil {
			t.Errorf("service %s: its environment is refused by the binary:\n%v", name, err)
		}
	}
}
