package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/addrtest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// from is an HTTP client whose connections come from the loopback address
// ip (any of 127.0.0.0/8), as a client on another machine would.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// adminCall sends GET url with token (none when empty) and extra headers
// through c, and returns the status and the Retry-After header.
func adminCall(t *testing.T, c *http.Client, url, token string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// adminAuditOf returns the admin_auth audit entries, newest first.
func adminAuditOf(t *testing.T, db *pgxpool.Pool) []map[string]any {
	t.Helper()
	var out []map[string]any
	rows, err := db.Query(context.Background(),
		`SELECT status, detail FROM custom_gpt_audit_entries WHERE action = 'admin_auth' ORDER BY id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, detail string
		if err := rows.Scan(&status, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, map[string]any{"status": status, "detail": detail})
	}
	return out
}

// With CUSTOM_GPT_ADMIN_ADDR the admin API, the metrics and Go's profiles
// are served there only: the public listener has none of them.
func TestAdminSurfaceListensApart(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	admin := addrtest.ReserveTCP(t)
	e.Vars["CUSTOM_GPT_ADMIN_ADDR"] = admin
	e.Start("serve") // waits until the admin listener answers too

	c := http.DefaultClient
	for _, path := range []string{"/admin/v1/audit", "/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		if code, _ := adminCall(t, c, e.Base+path, harness.AdminToken, nil); code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, code)
		}
	}
	if code, _ := adminCall(t, c, "http://"+admin+"/admin/v1/audit", harness.AdminToken, nil); code != http.StatusOK {
		t.Errorf("admin listener /admin/v1/audit: %d", code)
	}
	if code, _ := adminCall(t, c, "http://"+admin+"/metrics", "", nil); code != http.StatusOK {
		t.Errorf("admin listener /metrics: %d", code)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/profile?seconds=1"} {
		if code, _ := adminCall(t, c, "http://"+admin+path, "", nil); code != http.StatusOK {
			t.Errorf("admin listener %s: %d", path, code)
		}
	}
	if code, _ := adminCall(t, c, e.Base+"/healthz", "", nil); code != http.StatusOK {
		t.Errorf("public /healthz: %d", code)
	}
}

// Guessing the admin token: each wrong try is audited with its address, and
// after 10 in a minute the address is refused (429) before its token is
// looked at, so even the right token gets nothing from there; another address
// is not affected.
func TestAdminTokenGuessesAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Start("serve")
	audit := e.Base + "/admin/v1/audit"
	attacker, admin := from("127.0.0.2"), from("127.0.0.3")

	for i := range 10 {
		if code, _ := adminCall(t, attacker, audit, "guess-number-"+strings.Repeat("x", i), nil); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code, retry := adminCall(t, attacker, audit, "one-guess-too-many", nil); code != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("the 11th guess: %d (Retry-After %q), want 429", code, retry)
	}
	if code, _ := adminCall(t, attacker, audit, harness.AdminToken, nil); code != http.StatusTooManyRequests {
		t.Fatalf("the right token from the spent address: %d, want 429", code)
	}
	if code, _ := adminCall(t, admin, audit, harness.AdminToken, nil); code != http.StatusOK {
		t.Fatalf("the right token from another address: %d, want 200", code)
	}

	// Refusals are audited in batches, a moment later.
	db := e.Pool()
	var entries []map[string]any
	e.Eventually("the wrong tokens are audited", func() bool {
		entries = adminAuditOf(t, db)
		return len(entries) >= 10
	})
	if len(entries) != 10 {
		t.Fatalf("%d admin_auth audit entries, want one per wrong token: %v", len(entries), entries)
	}
	for _, x := range entries {
		if x["status"] != "failed" || !strings.Contains(x["detail"].(string), "127.0.0.2") {
			t.Fatalf("audit entry %v", x)
		}
	}
}

// Behind a trusted proxy each client is the address the proxy saw: one
// client's failed guesses do not lock out the others who come through the
// same proxy, and its audit entries name it. A client that is not a trusted
// proxy cannot choose its address with the header.
func TestTrustedProxiesGiveEachClientItsAddress(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_TRUSTED_PROXIES"] = "127.0.0.4, 10.0.0.0/8"
	e.Start("serve")
	audit := e.Base + "/admin/v1/audit"
	proxy, direct := from("127.0.0.4"), from("127.0.0.5")
	// The proxy appends the address it saw; what the client sent stays on the left.
	via := func(client string) map[string]string {
		return map[string]string{"X-Forwarded-For": "6.6.6.6, " + client + ", 10.1.2.3"}
	}

	for range 11 {
		adminCall(t, proxy, audit, "wrong", via("198.51.100.7"))
	}
	if code, _ := adminCall(t, proxy, audit, "wrong", via("198.51.100.7")); code != http.StatusTooManyRequests {
		t.Fatalf("the guessing client behind the proxy: %d, want 429", code)
	}
	if code, _ := adminCall(t, proxy, audit, harness.AdminToken, via("198.51.100.8")); code != http.StatusOK {
		t.Fatalf("another client behind the same proxy: %d, want 200", code)
	}
	db := e.Pool()
	e.Eventually("the audit names the client behind the proxy", func() bool {
		entries := adminAuditOf(t, db)
		return len(entries) == 10 && strings.Contains(entries[0]["detail"].(string), "198.51.100.7")
	})

	// Not a proxy: its header is ignored, so changing it escapes nothing.
	for i := range 11 {
		adminCall(t, direct, audit, "wrong", map[string]string{"X-Forwarded-For": "203.0.113." + strings.Repeat("1", i%3+1)})
	}
	if code, _ := adminCall(t, direct, audit, harness.AdminToken, map[string]string{"X-Forwarded-For": "203.0.113.250"}); code != http.StatusTooManyRequests {
		t.Fatalf("a direct client forging X-Forwarded-For: %d, want 429", code)
	}
}

// forwardedBy adds the X-Forwarded-For a proxy sets for its client.
type forwardedBy struct {
	client string
	next   http.RoundTripper
}

func (f forwardedBy) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.client)
	return f.next.RoundTrip(r)
}

// The case: behind the TLS proxy every user shares its address, so
// one client's wrong passwords (20 a minute per address by default) locked
// every user out of signing in. With the proxy trusted, the guesser is
// refused and another user behind the same proxy signs in.
func TestSignInBehindAProxyIsLimitedPerClient(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_TRUSTED_PROXIES": "127.0.0.6", "CUSTOM_GPT_LOGIN_RATE": "2"})
	via := func(client string) *harness.Browser {
		b := harness.NewBrowser(o.Deployment)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.6")}}
		b.C.Transport = forwardedBy{client: client, next: &http.Transport{DialContext: d.DialContext}}
		return b
	}

	guesser := via("198.51.100.20")
	_, hdr, _ := guesser.Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, "guess").Encode())
	_, _, page := guesser.Get(hdr.Get("Location"))
	f := harness.Fields(page)
	limited := false
	for i := range 20 { // other accounts each time: only the address budget (4 × 2 a minute) runs out
		code, _, _ := guesser.Post("/oauth/login", url.Values{"id": {f["id"]}, "csrf": {f["csrf"]},
			"email": {fmt.Sprintf("someone%d@example.com", i)}, "password": {"not the password"}})
		if code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("the guessing client was never limited")
	}
	if cb := via("198.51.100.21").Authorize(harness.AuthorizeQuery(o.App, "alice"), harness.AliceEmail, harness.AlicePassword); cb.Query().Get("code") == "" {
		t.Fatalf("another user behind the proxy could not sign in: %s", cb)
	}
}
