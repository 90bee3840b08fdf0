package deploytest

import (
	"context"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// scripts/ensure-services.sh creates the database CUSTOM_GPT_DATABASE_URL
// names, not always custom_gpt.
func TestEnsureServicesCreatesTheDatabaseOfTheURL(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "pg_isready", "psql", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	dbURL := pgtest.NewURL(t) // dropped at cleanup, whoever created it
	u, _ := url.Parse(dbURL)
	if u.Hostname() != "127.0.0.1" || u.Port() != "5432" {
		t.Skipf("the test server %s is not the local PostgreSQL the script manages", u.Host)
	}
	name := strings.TrimPrefix(u.Path, "/")
	exists := func() bool {
		conn, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	conn, err := pgx.Connect(context.Background(), pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize())
	conn.Close(context.Background())
	if err != nil || exists() {
		t.Fatalf("drop %s before the script runs: %v", name, err)
	}

	cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts/ensure-services.sh"))
	for _, kv := range cmd.Environ() {
		if !strings.HasPrefix(kv, "ENSURE_SERVICES_DB=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "CUSTOM_GPT_DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ensure-services.sh: %v\n%s", err, out)
	}
	if !exists() || !strings.Contains(string(out), "creating database '"+name+"'") {
		t.Fatalf("ensure-services.sh did not create %s:\n%s", name, out)
	}
}
