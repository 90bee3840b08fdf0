package oauth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// An oversized parameter is refused before anything is stored. Those an error
// cannot be redirected without (client_id, redirect_uri, state, response_type,
// response_mode) get 400 shown to the user; the others go back to the
// verified redirect URI as invalid_request with the state (RFC 6749 4.1.2.1).
// Each error names the parameter.
func TestOversizedAuthorizationRequestsAreRefusedAndNotStored(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	c := clientFrom(t, "127.0.0.1")
	big := func(n int) string { return strings.Repeat("a", n) }

	shown := map[string]func(url.Values){
		"state":         func(q url.Values) { q.Set("state", big(2000)) },
		"client_id":     func(q url.Values) { q.Set("client_id", o.App.AppID+big(600)) },
		"redirect_uri":  func(q url.Values) { q.Set("redirect_uri", harness.ChatGPTCallback+"?"+big(3000)) },
		"response_type": func(q url.Values) { q.Set("response_type", "code"+big(100)) },
		"response_mode": func(q url.Values) { q.Set("response_mode", big(100)) },
	}
	for param, mutate := range shown {
		q := harness.AuthorizeQuery(o.App, "st")
		mutate(q)
		code, hdr, body := o.AuthorizeFrom(c, q, "")
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if code != http.StatusBadRequest || hdr.Get("Location") != "" || e.Error != "invalid_request" ||
			!strings.HasPrefix(e.Description, param+" is longer than") {
			t.Errorf("oversized %s: %d %q %s", param, code, hdr.Get("Location"), body)
		}
	}

	// The reported 10 MB state, POSTed: refused after reading 64 KiB.
	form := harness.AuthorizeQuery(o.App, big(10<<20)).Encode()
	if code, _, body := o.AuthorizeFrom(c, nil, form); code != http.StatusBadRequest || !strings.Contains(body, "state is longer than") {
		t.Errorf("10 MB state: %d %s", code, body)
	}

	redirected := map[string]func(url.Values){
		"nonce":          func(q url.Values) { q.Set("nonce", big(2000)) },
		"scope":          func(q url.Values) { q.Set("scope", "memories:read "+big(2000)) },
		"code_challenge": func(q url.Values) { q.Set("code_challenge", big(200)); q.Set("code_challenge_method", "S256") },
		"login_hint":     func(q url.Values) { q.Set("login_hint", big(1000)) }, // not stored, still capped
	}
	for param, mutate := range redirected {
		q := harness.AuthorizeQuery(o.App, "st-"+param)
		mutate(q)
		code, hdr, body := o.AuthorizeFrom(c, q, "")
		loc, _ := url.Parse(hdr.Get("Location"))
		if code != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), harness.ChatGPTCallback+"?") ||
			loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-"+param ||
			!strings.HasPrefix(loc.Query().Get("error_description"), param+" is longer than") {
			t.Errorf("oversized %s: %d %q %s", param, code, hdr.Get("Location"), body)
		}
	}

	if n := o.CountAuthRequests(); n != 0 {
		t.Fatalf("%d authorization requests stored from oversized requests", n)
	}
	// The limits leave room for a real request, which is stored.
	q := harness.AuthorizeQuery(o.App, big(1024))
	q.Set("nonce", big(1024))
	if code, hdr, body := o.AuthorizeFrom(c, q, ""); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/oauth/login?") {
		t.Fatalf("a request at the limits: %d %q %s", code, hdr.Get("Location"), body)
	}
	if n := o.CountAuthRequests(); n != 1 {
		t.Fatalf("%d authorization requests stored, want 1", n)
	}
}

// One address flooding /oauth/authorize is refused with 429 once its budget
// is spent, before anything is stored; another address is not.
func TestAuthorizeFloodFromOneAddressIsLimited(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_AUTHORIZE_RATE": "5"})
	flooder := clientFrom(t, "127.0.0.2")
	var limited int
	for i := range 20 {
		code, hdr, body := o.AuthorizeFrom(flooder, harness.AuthorizeQuery(o.App, "flood"), "")
		switch code {
		case http.StatusFound:
		case http.StatusTooManyRequests:
			secs, err := strconv.Atoi(hdr.Get("Retry-After"))
			var e map[string]string
			if err != nil || secs < 1 || json.Unmarshal([]byte(body), &e) != nil || e["error"] != "temporarily_unavailable" {
				t.Fatalf("429 without Retry-After or OAuth error: %q %s", hdr.Get("Retry-After"), body)
			}
			limited++
		default:
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	if limited == 0 {
		t.Fatal("20 authorization requests from one address were never limited")
	}
	if n := o.CountAuthRequests(); n > 20-limited {
		t.Fatalf("%d authorization requests stored, but only %d were let through", n, 20-limited)
	}
	if code, _, body := o.AuthorizeFrom(clientFrom(t, "127.0.0.3"), harness.AuthorizeQuery(o.App, "other"), ""); code != http.StatusFound {
		t.Fatalf("another address: %d %s", code, body)
	}
}
