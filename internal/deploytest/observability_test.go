package deploytest

import (
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

var observability = []string{"prometheus", "grafana", "jaeger"}

// The observability profile adds Prometheus, Grafana and Jaeger, and only
// when asked for: a plain `docker compose up` starts none of them.
func TestComposeObservabilityProfile(t *testing.T) {
	plain, err := loadCompose(t, composeEnv())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range observability {
		if _, ok := plain.Services[name]; ok {
			t.Errorf("service %s runs without the observability profile", name)
		}
	}
	project, err := loadCompose(t, composeEnv(), "observability")
	if err != nil {
		t.Fatalf("load compose.yaml with the observability profile: %v", err)
	}
	for _, name := range observability {
		svc, ok := project.Services[name]
		if !ok {
			t.Fatalf("compose.yaml: no service %s in the observability profile", name)
		}
		if !slices.Equal(svc.Profiles, []string{"observability"}) {
			t.Errorf("service %s: profiles %q", name, svc.Profiles)
		}
		if svc.Image == "" || strings.HasSuffix(svc.Image, ":latest") || !strings.Contains(svc.Image, ":") {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
		// UIs and receivers for the operator, not for the network.
		for _, p := range svc.Ports {
			if p.HostIP != "127.0.0.1" {
				t.Errorf("service %s: port %d published on %q, not the host's loopback", name, p.Target, p.HostIP)
			}
		}
		// Whatever it mounts from the repository is there.
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s, which does not exist: %v", name, v.Source, err)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	checkPrometheus(t, project)
	checkGrafana(t, project)
	jaeger := project.Services["jaeger"]
	for _, port := range []uint32{4317, 4318, 16686} {
		if !slices.ContainsFunc(jaeger.Ports, func(p types.ServicePortConfig) bool { return p.Target == port }) {
			t.Errorf("service jaeger: port %d (OTLP gRPC 4317, OTLP HTTP 4318, UI 16686) not published", port)
		}
	}
}

// mounted returns the repository file or directory svc mounts at target, ""
// when none.
func mounted(svc types.ServiceConfig, target string) string {
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == target {
			return v.Source
		}
	}
	return ""
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
}

// Prometheus loads the alerts mounted beside its configuration and scrapes
// the api's admin listener and the worker's ops listener, where /metrics is.
func checkPrometheus(t *testing.T, project *types.Project) {
	t.Helper()
	svc := project.Services["prometheus"]
	const config = "/etc/prometheus/prometheus.yml"
	if !slices.Contains([]string(svc.Command), "--config.file="+config) {
		t.Errorf("service prometheus: command %q does not load %s", svc.Command, config)
	}
	source := mounted(svc, config)
	if source == "" {
		t.Fatalf("service prometheus: nothing mounted at %s", config)
	}
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, source, &cfg)
	for _, rules := range cfg.RuleFiles {
		in := path.Join(path.Dir(config), rules)
		if got := mounted(svc, in); got != filepath.Join(filepath.Dir(source), rules) {
			t.Errorf("rule file %s is %q in the container, want deploy/prometheus/%s", in, got, rules)
		}
	}
	if !slices.Contains(cfg.RuleFiles, "alerts.yml") {
		t.Errorf("prometheus.yml: rule_files %q do not load alerts.yml", cfg.RuleFiles)
	}

	// The port of each listener serving /metrics, as compose sets it.
	want := map[string]string{
		"api":    listenerPort(t, project.Services["api"], "CUSTOM_GPT_ADMIN_ADDR"),
		"worker": listenerPort(t, project.Services["worker"], "CUSTOM_GPT_WORKER_ADDR"),
	}
	scraped := map[string]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				if err != nil {
					t.Fatalf("prometheus.yml: target %q: %v", target, err)
				}
				scraped[host] = port
			}
		}
	}
	for name, port := range want {
		if scraped[name] != port {
			t.Errorf("prometheus.yml scrapes %s on port %q, want %q (where its /metrics is served)", name, scraped[name], port)
		}
	}
}

func listenerPort(t *testing.T, svc types.ServiceConfig, env string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(envValue(svc, env))
	if err != nil {
		t.Fatalf("service %s: %s: %v", svc.Name, env, err)
	}
	return port
}

// Grafana is provisioned with the Prometheus service as its data source and
// loads the dashboard from where it is mounted.
func checkGrafana(t *testing.T, project *types.Project) {
	t.Helper()
	svc := project.Services["grafana"]
	provisioning := mounted(svc, "/etc/grafana/provisioning")
	if provisioning == "" {
		t.Fatal("service grafana: nothing mounted at /etc/grafana/provisioning")
	}
	var sources struct {
		Datasources []struct {
			Type, URL string
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(provisioning, "datasources", "prometheus.yml"), &sources)
	if len(sources.Datasources) != 1 || sources.Datasources[0].Type != "prometheus" ||
		sources.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("grafana data sources %+v, want the prometheus service", sources.Datasources)
	}
	var dashboards struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(provisioning, "dashboards", "custom-gpt-adapter.yml"), &dashboards)
	if len(dashboards.Providers) != 1 {
		t.Fatalf("grafana dashboard providers %+v", dashboards.Providers)
	}
	dashboard := path.Join(dashboards.Providers[0].Options.Path, "custom-gpt-adapter.json")
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mounted(svc, dashboard), filepath.Join(root, "deploy", "grafana", "custom-gpt-adapter.json"); got != want {
		t.Errorf("grafana mounts %q at %s, want %s", got, dashboard, want)
	}
}

// CI runs promtool over the alerts and the dashboard's queries.
func TestCIChecksObservability(t *testing.T) {
	ci := string(readRepoFile(t, ".ci/run"))
	if !strings.Contains(ci, "\nbash scripts/check-observability.sh\n") {
		t.Error(".ci/run does not run scripts/check-observability.sh")
	}
	script := string(readRepoFile(t, "scripts/check-observability.sh"))
	for _, check := range []string{
		"promtool check rules deploy/prometheus/alerts.yml",
		"promtool test rules deploy/prometheus/alerts_test.yml",
		"promtool check config deploy/prometheus/prometheus.yml",
	} {
		if !strings.Contains(script, check) {
			t.Errorf("scripts/check-observability.sh does not run %q", check)
		}
	}
}
