package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// wantRateLimited checks a 429: problem+json naming the spent budget,
// Retry-After of at least a second, and the draft's fields agreeing with it.
func wantRateLimited(t *testing.T, a harness.Answer, budget, policy string) {
	t.Helper()
	if a.Code != http.StatusTooManyRequests || a.Hdr.Get("Content-Type") != "application/problem+json" ||
		a.Body["type"] != "urn:custom-gpt-adapter:problem:rate-limited" {
		t.Fatalf("refusal %d %s %v", a.Code, a.Hdr.Get("Content-Type"), a.Body)
	}
	if v, _ := a.Body["violated-policies"].([]any); len(v) != 1 || v[0] != budget || !strings.Contains(a.Body["detail"].(string), budget+" budget") {
		t.Errorf("refusal names %v (%v), want the %s budget", a.Body["violated-policies"], a.Body["detail"], budget)
	}
	retry, err := strconv.Atoi(a.Hdr.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Fatalf("Retry-After %q, want whole seconds >= 1", a.Hdr.Get("Retry-After"))
	}
	if got := a.Hdr.Get("RateLimit-Policy"); got != policy {
		t.Errorf("RateLimit-Policy %q, want %q", got, policy)
	}
	state := a.Hdr.Get("RateLimit")
	if !strings.Contains(state, `"`+budget+`";r=0;t=`+strconv.Itoa(retry)) {
		t.Errorf("RateLimit %q, want %q with r=0 and t equal to Retry-After %d", state, budget, retry)
	}
	if a.Body["request_id"] == nil || a.Body["request_id"] != a.Hdr.Get("X-Request-ID") {
		t.Errorf("problem request_id %v, header %q", a.Body["request_id"], a.Hdr.Get("X-Request-ID"))
	}
}

func TestRateLimitPerApplication(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	slow, other := e.CreateApp("Slow GPT"), e.CreateApp("Other GPT")
	l := e.SetLimits(slow.AppID, "--rps", "1", "--burst", "2")
	if l.AppID != slow.AppID || l.RateLimits.App.RPS != 1 || l.RateLimits.App.Burst != 2 || l.RateLimits.User.RPS != 10000 ||
		len(l.Overrides) != 2 || l.Overrides["rps"] != 1 || l.Overrides["burst"] != 2 {
		t.Fatalf("set-limits printed %+v", l)
	}
	e.Start("serve")

	served, refused, took := e.UntilRefused(func(int) harness.Answer { return e.Send("GET", "/api/v1/memories", slow.APIKey, nil, nil) })
	if served < 2 || served > 2+int(took.Seconds()) {
		t.Fatalf("%d requests served in %v before the refusal, want the burst of 2", served, took)
	}
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=2`)

	// Another application's budget is its own; allowed answers carry the fields too.
	a := e.Send("GET", "/api/v1/memories", other.APIKey, nil, nil)
	if a.Code != http.StatusOK || a.Hdr.Get("RateLimit-Policy") != `"app";q=10000;w=1;cgpt-burst=100000` ||
		!strings.HasPrefix(a.Hdr.Get("RateLimit"), `"app";r=9999`) { // 99999 left, give or take float rounding
		t.Fatalf("the other app: %d %q %q", a.Code, a.Hdr.Get("RateLimit-Policy"), a.Hdr.Get("RateLimit"))
	}

	// apps list shows each application's limits; --default goes back to them.
	out, err := e.RunCLI("apps", "list")
	if err != nil {
		t.Fatal(err)
	}
	var list []harness.LimitsOut
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("apps list printed %q: %v", out, err)
	}
	listed := map[string]harness.LimitsOut{}
	for _, x := range list {
		listed[x.AppID] = x
	}
	if x, ok := listed[slow.AppID]; !ok || x.RateLimits.App.RPS != 1 || x.RateLimits.App.Burst != 2 || x.Overrides["burst"] != 2 {
		t.Errorf("apps list shows the limited app as %+v (listed: %v)", x, ok)
	}
	if x, ok := listed[other.AppID]; !ok || x.RateLimits.App.RPS != 10000 || len(x.Overrides) != 0 {
		t.Errorf("apps list shows the other app as %+v (listed: %v)", x, ok)
	}
	l = e.SetLimits("--default", slow.AppID)
	if l.RateLimits.App.RPS != 10000 || l.RateLimits.App.Burst != 100000 || len(l.Overrides) != 0 {
		t.Fatalf("after --default: %+v", l)
	}
	if a := e.Send("GET", "/api/v1/memories", slow.APIKey, nil, nil); a.Code != http.StatusOK {
		t.Fatalf("after --default: %d %v", a.Code, a.Body)
	}
}

// One user spending their budget neither stops another user of the same GPT
// nor spends the GPT's budget with the requests refused to them.
func TestRateLimitPerEndUser(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	gpt := e.CreateOAuthApp("Shared GPT", harness.ChatGPTCallback)
	e.CreateUser("x@example.com", "password-of-user-x")
	e.CreateUser("y@example.com", "password-of-user-y")
	e.SetLimits(gpt.AppID, "--user-rps", "1", "--user-burst", "2", "--rps", "1", "--burst", "3")
	e.Start("serve")
	tokenFor := func(who string) string {
		cb := harness.NewBrowser(e).Authorize(harness.AuthorizeQuery(gpt, "s"), who+"@example.com", "password-of-user-"+who)
		status, _, tok := e.Token(gpt, true, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {harness.ChatGPTCallback}})
		if status != http.StatusOK {
			t.Fatalf("token for %s: %d %+v", who, status, tok)
		}
		return tok.AccessToken
	}
	x, y := tokenFor("x"), tokenFor("y")
	search := func(tok string) harness.Answer {
		return e.Send("POST", "/api/v1/search", tok, nil, map[string]any{"query": "anything"})
	}
	const policy = `"app";q=1;w=1;cgpt-burst=3, "user";q=1;w=1;cgpt-burst=2`

	servedX, refused, took := e.UntilRefused(func(int) harness.Answer { return search(x) })
	if servedX < 2 || servedX > 2+int(took.Seconds()) {
		t.Fatalf("x served %d in %v, want the user burst of 2", servedX, took)
	}
	wantRateLimited(t, refused, "user", policy)
	if strings.Contains(refused.Hdr.Get("RateLimit"), `"app"`) {
		t.Errorf("RateLimit %q reports the app budget, which a user refusal leaves alone", refused.Hdr.Get("RateLimit"))
	}
	for range 5 { // x keeps trying: refusals must not spend the GPT's budget
		search(x)
	}
	// y has a budget of their own, and the GPT's still has what x's served
	// requests left of it (refills only add to that).
	a := search(y)
	if a.Code != http.StatusOK || a.Hdr.Get("RateLimit-Policy") != policy || !strings.HasPrefix(a.Hdr.Get("RateLimit"), `"app";r=`) ||
		!strings.Contains(a.Hdr.Get("RateLimit"), `, "user";r=1;t=`) {
		t.Fatalf("y while x is refused: %d %q %q %v", a.Code, a.Hdr.Get("RateLimit-Policy"), a.Hdr.Get("RateLimit"), a.Body)
	}
	// y then runs into the GPT's budget or their own, whichever is spent first.
	_, refused, _ = e.UntilRefused(func(int) harness.Answer { return search(y) })
	if v, _ := refused.Body["violated-policies"].([]any); len(v) == 1 && v[0] == "app" {
		wantRateLimited(t, refused, "app", policy)
		if !strings.Contains(refused.Hdr.Get("RateLimit"), `"user";r=`) {
			t.Errorf("an app refusal's RateLimit %q lacks the user budget it checked first", refused.Hdr.Get("RateLimit"))
		}
	} else {
		wantRateLimited(t, refused, "user", policy)
	}
}

// A refused write leaves its audit entry and nothing else: no operation, no
// command, no Idempotency-Key record.
func TestRateLimitedRequestIsAuditedAndWritesNothingElse(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("Busy GPT")
	e.SetLimits(app.AppID, "--rps", "1", "--burst", "1")
	e.Start("api") // no worker: commands stay on their stream to be counted

	var lastID string
	served, refused, _ := e.UntilRefused(func(i int) harness.Answer {
		lastID = "rl-" + strconv.Itoa(i)
		return e.Send("POST", "/api/v1/memories", app.APIKey,
			map[string]string{"X-Request-ID": lastID, "Idempotency-Key": `"key-` + strconv.Itoa(i) + `"`},
			map[string]any{"content": "a fact worth keeping"})
	})
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=1`)

	// Refusals are audited in batches, a moment after the 429.
	var refusal []map[string]any
	e.Eventually("the refused request is audited", func() bool {
		_, _, audit := e.Call("GET", "/admin/v1/audit?app_id="+app.AppID, harness.AdminToken, nil)
		refusal = nil
		for _, x := range audit["entries"].([]any) {
			if m := x.(map[string]any); m["correlation_id"] == lastID {
				refusal = append(refusal, m)
			}
		}
		return len(refusal) > 0
	})
	if len(refusal) != 1 {
		t.Fatalf("%d audit entries for the refused request %s: %v", len(refusal), lastID, refusal)
	}
	if m := refusal[0]; m["operation"] != "rate_limited" || m["status"] != "failed" || m["app_id"] != app.AppID {
		t.Errorf("audit entry of the refusal: %v", m)
	}

	db := e.Pool()
	var ops, keys, kept int
	if err := db.QueryRow(context.Background(), `SELECT count(*), count(command) FROM custom_gpt_operations`).Scan(&ops, &kept); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_idempotency_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if ops != served || keys != served || kept != served {
		t.Fatalf("%d served: %d operations, %d Idempotency-Key records, %d kept commands", served, ops, keys, kept)
	}
	// Commands are queued after the commit, and only the scope's first
	// pending write's: the later ones wait for it to hand them their turn
	// (served is 2 when a token refilled during the loop).
	topics := events.Topics{Prefix: e.Vars["CUSTOM_GPT_STREAM_PREFIX"]}
	rdb := redistest.Client(t)
	var commands int64
	e.Eventually("the first write's command is queued", func() bool {
		n, err := rdb.XLen(context.Background(), topics.Command("CreateMemory")).Result()
		if err != nil {
			t.Fatal(err)
		}
		commands = n
		return n > 0
	})
	if commands != 1 {
		t.Fatalf("%d served in one scope: %d commands queued, want the first write's alone", served, commands)
	}
}

func TestSetLimitsRefusesBadValuesNamingTheFlag(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.CreateApp("GPT")
	e.SetLimits(app.AppID, "--user-rps", "3")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{app.AppID, "--rps", "0"}, "--rps must be"},
		{[]string{app.AppID, "--burst", "-1"}, "--burst must be"},
		{[]string{app.AppID, "--rps", "10001"}, "--rps must be a whole number from 1 to 10000"},
		{[]string{app.AppID, "--user-burst", "100001"}, "--user-burst must be"},
		{[]string{app.AppID, "--rps", "2", "--user-rps", "0"}, "--user-rps must be"},
		{[]string{app.AppID, "--user-rps", "fast"}, "user-rps"},
		{[]string{app.AppID}, "give --rps"},
		{[]string{"--rps", "1"}, "give an APP_ID"},
		{[]string{"no-such-app", "--rps", "1"}, "application-not-found"},
	} {
		out, err := e.RunCLI(append([]string{"apps", "set-limits"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("set-limits %v: %q %v, want an error saying %q", tc.args, out, err, tc.want)
		}
	}
	// Nothing was changed by the refused calls.
	l := e.SetLimits(app.AppID, "--burst", "7")
	if len(l.Overrides) != 2 || l.Overrides["user-rps"] != 3 || l.Overrides["burst"] != 7 || l.RateLimits.App.RPS != 10000 {
		t.Fatalf("limits after refused changes: %+v", l)
	}
}

func TestRateLimitDefaultsComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"CUSTOM_GPT_APP_RATE": "0", "CUSTOM_GPT_APP_BURST": "lots", "CUSTOM_GPT_USER_RATE": "10001", "CUSTOM_GPT_USER_BURST": "-3",
	} {
		_, err := harness.RunCLIWithOnly(map[string]string{name: value}, "migrate")
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s=%q: %v does not name the variable", name, value, err)
		}
	}
	e := harness.NewDeployment(t, "embedded")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_APP_RATE"], e.Vars["CUSTOM_GPT_APP_BURST"] = "1", "1"
	app := e.CreateApp("GPT")
	e.Start("serve")
	served, refused, took := e.UntilRefused(func(int) harness.Answer { return e.Send("GET", "/api/v1/memories", app.APIKey, nil, nil) })
	if served < 1 || served > 1+int(took.Seconds()) {
		t.Fatalf("%d served in %v, want the default burst of 1", served, took)
	}
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=1`)
}
