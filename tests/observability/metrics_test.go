package observability

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

const repoRoot = "../../"

// alertRules is deploy/prometheus/alerts.yml.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readAlerts(t *testing.T) alertRules {
	t.Helper()
	b, err := os.ReadFile(repoRoot + "deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("parse alerts.yml: %v", err)
	}
	return rules
}

var metricName = regexp.MustCompile(`custom_gpt_[a-z0-9_]+`)

// referencedMetrics returns every custom_gpt_ metric the alerts' expressions
// and the dashboard's queries name, with where each is named.
func referencedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	refs := map[string][]string{}
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			for _, name := range metricName.FindAllString(r.Expr, -1) {
				refs[name] = append(refs[name], "alert "+r.Alert)
			}
		}
	}
	raw, err := os.ReadFile(repoRoot + "deploy/grafana/custom-gpt-adapter.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("parse the dashboard: %v", err)
	}
	// Every string of the dashboard: panel queries and variable queries alike.
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if title, ok := v["title"].(string); ok {
				where = "panel " + title
			} else if name, ok := v["name"].(string); ok {
				where = "variable " + name
			}
			for _, child := range v {
				walk(where, child)
			}
		case []any:
			for _, child := range v {
				walk(where, child)
			}
		case string:
			for _, name := range metricName.FindAllString(v, -1) {
				refs[name] = append(refs[name], "dashboard "+where)
			}
		}
	}
	walk("", dashboard)
	if len(refs) == 0 {
		t.Fatal("the alerts and the dashboard name no custom_gpt_ metric")
	}
	return refs
}

// exported is what one scrape of /metrics shows: each family's type, and the
// text, for what it must not hold.
type exported struct {
	types map[string]string
	text  string
}

func scrape(t *testing.T, url string) exported {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	e := exported{types: map[string]string{}, text: string(body)}
	lines := bufio.NewScanner(strings.NewReader(e.text))
	for lines.Scan() {
		if f := strings.Fields(lines.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			e.types[f[2]] = f[3]
		}
	}
	return e
}

// family is the metric family a query's name belongs to: itself, or the
// histogram or summary whose series it is (_bucket, _sum, _count).
func (e exported) family(name string) (string, bool) {
	if _, ok := e.types[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if typ := e.types[base]; found && (typ == "histogram" || typ == "summary") {
			return base, true
		}
	}
	return "", false
}

// workerOnly are the metrics of what a worker drains or does: each worker
// exports them and an API instance does not, so alerts read them once.
var workerOnly = []string{
	"custom_gpt_stream_length", "custom_gpt_stream_pending", "custom_gpt_stream_oldest_pending_age_seconds",
	"custom_gpt_dead_letters", "custom_gpt_outbox_unforwarded", "custom_gpt_outbox_oldest_unforwarded_age_seconds",
	"custom_gpt_operations_pending", "custom_gpt_operations_pending_oldest_age_seconds",
	"custom_gpt_operations_handled_total", "custom_gpt_operation_handling_duration_seconds",
	"custom_gpt_webhook_deliveries_total",
}

// uuid is an id of the service's making (applications, operations, requests):
// never a label value.
var uuid = regexp.MustCompile(`"[^"]*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[^"]*"`)

// Every metric an alert or a panel reads is exported by the api or the
// worker, as they run (a mem0 Memory Bank, the admin and ops listeners), after
// a memory was stored and searched: a rule naming a metric that does not exist
// would never fire. The worker's backlog is exported by workers only, and no
// label holds an id.
func TestAlertsAndDashboardReadExportedMetrics(t *testing.T) {
	t.Parallel()
	refs := referencedMetrics(t)

	e := harness.NewDeployment(t, "mem0-oss")
	admin, ops := addrtest.ReserveTCP(t), addrtest.ReserveTCP(t)
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_ADMIN_ADDR"] = admin
	e.Vars["CUSTOM_GPT_WORKER_ADDR"] = ops
	e.Start("api")
	e.Start("worker")
	app := e.CreateApp("Metrics GPT")
	op := e.AcceptCreate(app.APIKey, "The user prefers window seats")
	e.Succeeded(app.APIKey, op)
	if code, _, body := e.Call("POST", "/api/v1/search", app.APIKey, map[string]any{"query": "seats"}); code != http.StatusOK {
		t.Fatalf("search: %d %v", code, body)
	}

	processes := map[string]exported{"api": scrape(t, "http://"+admin+"/metrics"), "worker": scrape(t, "http://"+ops+"/metrics")}
	names := make([]string, 0, len(refs))
	for name := range refs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var by []string
		for _, p := range []string{"api", "worker"} {
			if _, ok := processes[p].family(name); ok {
				by = append(by, p)
			}
		}
		if len(by) == 0 {
			t.Errorf("%s is read by %s, and neither the api nor the worker exports it", name, strings.Join(slices.Compact(refs[name]), ", "))
		}
	}
	for _, name := range workerOnly {
		if _, ok := processes["worker"].types[name]; !ok {
			t.Errorf("the worker does not export %s", name)
		}
		if _, ok := processes["api"].types[name]; ok {
			t.Errorf("the api exports %s, which only workers own", name)
		}
	}
	for p, scraped := range processes {
		for _, id := range []string{app.AppID, op} {
			if strings.Contains(scraped.text, id) {
				t.Errorf("the %s's metrics hold the id %s", p, id)
			}
		}
		if found := uuid.FindAllString(scraped.text, 5); len(found) > 0 {
			t.Errorf("the %s's metrics have ids as label values: %v", p, found)
		}
	}
}
