package deploytest

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// scripts/ensure-services.sh starts compose.yaml's postgres and redis with
// compose.dev.yaml on top, and only the placeholders it gives for the two
// variables compose.yaml requires: what it starts must be where the default
// configuration looks, and let it in without a password.
func TestComposeDevServesTheDefaultConfiguration(t *testing.T) {
	script := string(readRepoFile(t, "scripts/ensure-services.sh"))
	for _, want := range []string{
		`docker compose -f "$ROOT/compose.yaml" -f "$ROOT/compose.dev.yaml" up -d --wait`,
		`CUSTOM_GPT_ADMIN_TOKEN="${CUSTOM_GPT_ADMIN_TOKEN:-unused-by-postgres-and-redis}"`,
		`CUSTOM_GPT_SECRETS_KEY="${CUSTOM_GPT_SECRETS_KEY:-unused-by-postgres-and-redis}"`,
	} {
		if !strings.Contains(script, want) {
			t.Fatalf("scripts/ensure-services.sh no longer has %s: update this test with it", want)
		}
	}
	env := map[string]string{
		"CUSTOM_GPT_ADMIN_TOKEN": "unused-by-postgres-and-redis",
		"CUSTOM_GPT_SECRETS_KEY": "unused-by-postgres-and-redis",
	}
	project, err := loadComposeFiles(t, env, []string{"compose.yaml", "compose.dev.yaml"})
	if err != nil {
		t.Fatalf("load compose.yaml with compose.dev.yaml: %v", err)
	}
	// Its own project, so its volumes are not a deployment's.
	if project.Name != "custom-gpt-adapter-dev" {
		t.Errorf("project name %q, want custom-gpt-adapter-dev", project.Name)
	}

	cfg, err := service.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := url.Parse(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	postgres, redis := project.Services["postgres"], project.Services["redis"]
	publishes(t, postgres, db.Hostname(), db.Port(), 5432)
	publishes(t, redis, rd.Hostname(), rd.Port(), 6379)

	if _, hasPassword := db.User.Password(); hasPassword || db.User.Username() != envValue(postgres, "POSTGRES_USER") {
		t.Errorf("default database URL %s: want user %s and no password", cfg.DatabaseURL, envValue(postgres, "POSTGRES_USER"))
	}
	if got := envValue(postgres, "POSTGRES_HOST_AUTH_METHOD"); got != "trust" {
		t.Errorf("postgres: POSTGRES_HOST_AUTH_METHOD = %q, want trust (the default URL has no password)", got)
	}
	if got, want := envValue(postgres, "POSTGRES_DB"), strings.TrimPrefix(db.Path, "/"); got != want {
		t.Errorf("postgres: POSTGRES_DB = %q, want %q, the default URL's", got, want)
	}
	// The override adds ports; it must not lose what compose.yaml says.
	if !hasFlagValue(redis.Command, "--maxmemory-policy", "noeviction") || postgres.HealthCheck == nil || redis.HealthCheck == nil {
		t.Errorf("the override lost compose.yaml's redis command or healthchecks: %q", redis.Command)
	}
}

// publishes fails the test unless svc publishes container port target on
// host:port, and on no other address.
func publishes(t *testing.T, svc types.ServiceConfig, host, port string, target uint32) {
	t.Helper()
	if !slices.ContainsFunc(svc.Ports, func(p types.ServicePortConfig) bool {
		return p.Target == target && p.HostIP == host && p.Published == port
	}) {
		t.Errorf("service %s: ports %+v, want %s:%s -> %d", svc.Name, svc.Ports, host, port, target)
	}
	for _, p := range svc.Ports {
		if p.HostIP != "127.0.0.1" {
			t.Errorf("service %s: port %+v is published beyond the loopback", svc.Name, p)
		}
	}
}
