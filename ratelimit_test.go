package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
)

// limitsOut is what `apps set-limits` prints, and what `apps list` shows of each app.
type limitsOut struct {
	AppID      string `json:"app_id"`
	RateLimits struct {
		App  struct{ RPS, Burst int } `json:"app"`
		User struct{ RPS, Burst int } `json:"user"`
	} `json:"rate_limits"`
	Overrides map[string]int `json:"rate_limit_overrides"`
}

func (e *env) setLimits(args ...string) limitsOut {
	e.t.Helper()
	out, err := e.cli(append([]string{"apps", "set-limits"}, args...)...)
	if err != nil {
		e.t.Fatalf("set-limits %v: %v", args, err)
	}
	var l limitsOut
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		e.t.Fatalf("set-limits printed %q: %v", out, err)
	}
	return l
}

type answer struct {
	code int
	hdr  http.Header
	body map[string]any
}

// send is call with extra request headers.
func (e *env) send(method, path, token string, hdr map[string]string, body any) answer {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		r = strings.NewReader(string(buf))
	}
	req, _ := http.NewRequest(method, e.base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return answer{resp.StatusCode, resp.Header, m}
}

// untilRefused sends until an answer is not a success and returns how many
// succeeded first and the refusal. With GCRA a budget of burst B at rate R
// serves B quick requests, plus at most R a second for the time they took, so
// callers bound the count by the elapsed time instead of assuming speed.
func (e *env) untilRefused(send func(i int) answer) (served int, refused answer, elapsed time.Duration) {
	e.t.Helper()
	start := time.Now()
	for i := range 50 {
		a := send(i)
		if a.code >= 300 {
			return served, a, time.Since(start)
		}
		if a.hdr.Get("RateLimit") == "" || a.hdr.Get("RateLimit-Policy") == "" {
			e.t.Fatalf("request %d answered %d without RateLimit fields: %v", i+1, a.code, a.hdr)
		}
		served++
	}
	e.t.Fatalf("50 requests, none refused")
	return
}

// wantRateLimited checks a 429: problem+json naming the spent budget,
// Retry-After of at least a second, and the draft's fields agreeing with it.
func wantRateLimited(t *testing.T, a answer, budget, policy string) {
	t.Helper()
	if a.code != http.StatusTooManyRequests || a.hdr.Get("Content-Type") != "application/problem+json" ||
		a.body["type"] != "urn:custom-gpt-adapter:problem:rate-limited" {
		t.Fatalf("refusal %d %s %v", a.code, a.hdr.Get("Content-Type"), a.body)
	}
	if v, _ := a.body["violated-policies"].([]any); len(v) != 1 || v[0] != budget || !strings.Contains(a.body["detail"].(string), budget+" budget") {
		t.Errorf("refusal names %v (%v), want the %s budget", a.body["violated-policies"], a.body["detail"], budget)
	}
	retry, err := strconv.Atoi(a.hdr.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Fatalf("Retry-After %q, want whole seconds >= 1", a.hdr.Get("Retry-After"))
	}
	if got := a.hdr.Get("RateLimit-Policy"); got != policy {
		t.Errorf("RateLimit-Policy %q, want %q", got, policy)
	}
	state := a.hdr.Get("RateLimit")
	if !strings.Contains(state, `"`+budget+`";r=0;t=`+strconv.Itoa(retry)) {
		t.Errorf("RateLimit %q, want %q with r=0 and t equal to Retry-After %d", state, budget, retry)
	}
	if a.body["request_id"] == nil || a.body["request_id"] != a.hdr.Get("X-Request-ID") {
		t.Errorf("problem request_id %v, header %q", a.body["request_id"], a.hdr.Get("X-Request-ID"))
	}
}

func TestRateLimitPerApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	slow, other := e.createApp("Slow GPT"), e.createApp("Other GPT")
	l := e.setLimits(slow.AppID, "--rps", "1", "--burst", "2")
	if l.AppID != slow.AppID || l.RateLimits.App.RPS != 1 || l.RateLimits.App.Burst != 2 || l.RateLimits.User.RPS != 10000 ||
		len(l.Overrides) != 2 || l.Overrides["rps"] != 1 || l.Overrides["burst"] != 2 {
		t.Fatalf("set-limits printed %+v", l)
	}
	e.start("serve")

	served, refused, took := e.untilRefused(func(int) answer { return e.send("GET", "/api/v1/memories", slow.APIKey, nil, nil) })
	if served < 2 || served > 2+int(took.Seconds()) {
		t.Fatalf("%d requests served in %v before the refusal, want the burst of 2", served, took)
	}
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=2`)

	// Another application's budget is its own; allowed answers carry the fields too.
	a := e.send("GET", "/api/v1/memories", other.APIKey, nil, nil)
	if a.code != http.StatusOK || a.hdr.Get("RateLimit-Policy") != `"app";q=10000;w=1;cgpt-burst=100000` ||
		!strings.HasPrefix(a.hdr.Get("RateLimit"), `"app";r=9999`) { // 99999 left, give or take float rounding
		t.Fatalf("the other app: %d %q %q", a.code, a.hdr.Get("RateLimit-Policy"), a.hdr.Get("RateLimit"))
	}

	// apps list shows each application's limits; --default goes back to them.
	out, err := e.cli("apps", "list")
	if err != nil {
		t.Fatal(err)
	}
	var list []limitsOut
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("apps list printed %q: %v", out, err)
	}
	listed := map[string]limitsOut{}
	for _, x := range list {
		listed[x.AppID] = x
	}
	if x, ok := listed[slow.AppID]; !ok || x.RateLimits.App.RPS != 1 || x.RateLimits.App.Burst != 2 || x.Overrides["burst"] != 2 {
		t.Errorf("apps list shows the limited app as %+v (listed: %v)", x, ok)
	}
	if x, ok := listed[other.AppID]; !ok || x.RateLimits.App.RPS != 10000 || len(x.Overrides) != 0 {
		t.Errorf("apps list shows the other app as %+v (listed: %v)", x, ok)
	}
	l = e.setLimits("--default", slow.AppID)
	if l.RateLimits.App.RPS != 10000 || l.RateLimits.App.Burst != 100000 || len(l.Overrides) != 0 {
		t.Fatalf("after --default: %+v", l)
	}
	if a := e.send("GET", "/api/v1/memories", slow.APIKey, nil, nil); a.code != http.StatusOK {
		t.Fatalf("after --default: %d %v", a.code, a.body)
	}
}

// One user spending their budget neither stops another user of the same GPT
// nor spends the GPT's budget with the requests refused to them.
func TestRateLimitPerEndUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	gpt := e.createOAuthApp("Shared GPT", chatGPTCallback)
	e.createUser("x@example.com", "password-of-user-x")
	e.createUser("y@example.com", "password-of-user-y")
	e.setLimits(gpt.AppID, "--user-rps", "1", "--user-burst", "2", "--rps", "1", "--burst", "3")
	e.start("serve")
	tokenFor := func(who string) string {
		cb := newBrowser(e).authorize(authorizeQuery(gpt, "s"), who+"@example.com", "password-of-user-"+who)
		status, _, tok := e.token(gpt, true, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {chatGPTCallback}})
		if status != http.StatusOK {
			t.Fatalf("token for %s: %d %+v", who, status, tok)
		}
		return tok.AccessToken
	}
	x, y := tokenFor("x"), tokenFor("y")
	search := func(tok string) answer {
		return e.send("POST", "/api/v1/search", tok, nil, map[string]any{"query": "anything"})
	}
	const policy = `"app";q=1;w=1;cgpt-burst=3, "user";q=1;w=1;cgpt-burst=2`

	servedX, refused, took := e.untilRefused(func(int) answer { return search(x) })
	if servedX < 2 || servedX > 2+int(took.Seconds()) {
		t.Fatalf("x served %d in %v, want the user burst of 2", servedX, took)
	}
	wantRateLimited(t, refused, "user", policy)
	if strings.Contains(refused.hdr.Get("RateLimit"), `"app"`) {
		t.Errorf("RateLimit %q reports the app budget, which a user refusal leaves alone", refused.hdr.Get("RateLimit"))
	}
	for range 5 { // x keeps trying: refusals must not spend the GPT's budget
		search(x)
	}
	// y has a budget of their own, and the GPT's still has what x's served
	// requests left of it (refills only add to that).
	a := search(y)
	if a.code != http.StatusOK || a.hdr.Get("RateLimit-Policy") != policy || !strings.HasPrefix(a.hdr.Get("RateLimit"), `"app";r=`) ||
		!strings.Contains(a.hdr.Get("RateLimit"), `, "user";r=1;t=`) {
		t.Fatalf("y while x is refused: %d %q %q %v", a.code, a.hdr.Get("RateLimit-Policy"), a.hdr.Get("RateLimit"), a.body)
	}
	// y then runs into the GPT's budget or their own, whichever is spent first.
	_, refused, _ = e.untilRefused(func(int) answer { return search(y) })
	if v, _ := refused.body["violated-policies"].([]any); len(v) == 1 && v[0] == "app" {
		wantRateLimited(t, refused, "app", policy)
		if !strings.Contains(refused.hdr.Get("RateLimit"), `"user";r=`) {
			t.Errorf("an app refusal's RateLimit %q lacks the user budget it checked first", refused.hdr.Get("RateLimit"))
		}
	} else {
		wantRateLimited(t, refused, "user", policy)
	}
}

// A refused write leaves its audit entry and nothing else: no operation, no
// command, no Idempotency-Key record.
func TestRateLimitedRequestIsAuditedAndWritesNothingElse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.createApp("Busy GPT")
	e.setLimits(app.AppID, "--rps", "1", "--burst", "1")
	e.start("api") // no worker: commands stay on their stream to be counted

	var lastID string
	served, refused, _ := e.untilRefused(func(i int) answer {
		lastID = "rl-" + strconv.Itoa(i)
		return e.send("POST", "/api/v1/memories", app.APIKey,
			map[string]string{"X-Request-ID": lastID, "Idempotency-Key": `"key-` + strconv.Itoa(i) + `"`},
			map[string]any{"content": "a fact worth keeping"})
	})
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=1`)

	// Refusals are audited in batches, a moment after the 429.
	var refusal []map[string]any
	e.eventually("the refused request is audited", func() bool {
		_, _, audit := e.call("GET", "/admin/v1/audit?app_id="+app.AppID, adminToken, nil)
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

	db := e.pool()
	var ops, keys int
	if err := db.QueryRow(t0ctx(), `SELECT count(*) FROM custom_gpt_operations`).Scan(&ops); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(t0ctx(), `SELECT count(*) FROM custom_gpt_idempotency_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	topics := events.Topics{Prefix: e.vars["CUSTOM_GPT_STREAM_PREFIX"]}
	commands, err := redistest.Client(t).XLen(t0ctx(), topics.Command("CreateMemory")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ops != served || keys != served || int(commands) != served {
		t.Fatalf("%d served: %d operations, %d Idempotency-Key records, %d commands", served, ops, keys, commands)
	}
}

func TestSetLimitsRefusesBadValuesNamingTheFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	app := e.createApp("GPT")
	e.setLimits(app.AppID, "--user-rps", "3")
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
		out, err := e.cli(append([]string{"apps", "set-limits"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("set-limits %v: %q %v, want an error saying %q", tc.args, out, err, tc.want)
		}
	}
	// Nothing was changed by the refused calls.
	l := e.setLimits(app.AppID, "--burst", "7")
	if len(l.Overrides) != 2 || l.Overrides["user-rps"] != 3 || l.Overrides["burst"] != 7 || l.RateLimits.App.RPS != 10000 {
		t.Fatalf("limits after refused changes: %+v", l)
	}
}

func TestRateLimitDefaultsComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"CUSTOM_GPT_APP_RATE": "0", "CUSTOM_GPT_APP_BURST": "lots", "CUSTOM_GPT_USER_RATE": "10001", "CUSTOM_GPT_USER_BURST": "-3",
	} {
		_, err := (&env2{map[string]string{name: value}}).cli("migrate")
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s=%q: %v does not name the variable", name, value, err)
		}
	}
	e := newEnv(t, "embedded")
	e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.vars["CUSTOM_GPT_APP_RATE"], e.vars["CUSTOM_GPT_APP_BURST"] = "1", "1"
	app := e.createApp("GPT")
	e.start("serve")
	served, refused, took := e.untilRefused(func(int) answer { return e.send("GET", "/api/v1/memories", app.APIKey, nil, nil) })
	if served < 1 || served > 1+int(took.Seconds()) {
		t.Fatalf("%d served in %v, want the default burst of 1", served, took)
	}
	wantRateLimited(t, refused, "app", `"app";q=1;w=1;cgpt-burst=1`)
}
