package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// clientFrom is an HTTP client whose connections leave from ip, any address
// of 127.0.0.0/8 on Linux, so a test can play callers at several addresses
// against a server listening on 127.0.0.1. It does not follow redirects.
func clientFrom(t testing.TB, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// oauthAnswer is an answer of an OAuth endpoint: status, headers and the
// decoded JSON body.
type oauthAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

// tooMany tells a rate-limit refusal in the OAuth error format with a usable
// Retry-After.
func (a oauthAnswer) tooMany() bool {
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	return a.status == http.StatusTooManyRequests && err == nil && secs >= 1 &&
		a.body["error"] == "slow_down" && a.body["error_description"] != "" && a.header.Get("Cache-Control") == "no-store"
}

// tokenAs posts form to the token endpoint from c, authenticating as
// clientID with secret: in the Basic header, in the form, or (secret "") with
// the client_id alone.
func (e *env) tokenAs(c *http.Client, clientID, secret string, basic bool, form url.Values) oauthAnswer {
	e.t.Helper()
	a, err := e.tryToken(c, clientID, secret, basic, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// tryToken is tokenAs for a goroutine: it returns its failure.
func (e *env) tryToken(c *http.Client, clientID, secret string, basic bool, form url.Values) (oauthAnswer, error) {
	form = maps.Clone(form)
	if !basic {
		form.Set("client_id", clientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		return oauthAnswer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return oauthAnswer{}, fmt.Errorf("token endpoint answered %d with non-JSON %q", resp.StatusCode, raw)
	}
	return oauthAnswer{resp.StatusCode, resp.Header, body}, nil
}

// The token endpoint's budgets are spent by the outcome of client
// authentication: an attacker who floods it with the victim's public
// client_id, with wrong secrets or none, is refused with 429 per address and
// per client, and the victim, whose requests authenticate, keeps exchanging
// codes and refreshing.
func TestTokenEndpointFloodDoesNotLockOutTheClient(t *testing.T) {
	t.Parallel()
	// Per second: 1 token request of the client (bursts of 2), 1 failure naming
	// a client (bursts of 2), 4 failures from an address (bursts of 8).
	o := newOAuthEnv(t, map[string]string{"CUSTOM_GPT_TOKEN_RATE": "1"})
	victim := o.app.AppID
	code := o.code(authorizeQuery(o.app, "victim-state"))

	// The flood, from one address, in every way of failing to authenticate as
	// the victim; it goes on while the victim works.
	attacker := clientFrom(t, "127.0.0.2")
	attempts := []struct {
		secret string
		basic  bool
		form   url.Values
	}{
		{"cgcs_wrong", true, exchange("stolen-or-guessed")},                                                 // wrong secret, Basic
		{"cgcs_wrong", false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"cgrt_guess"}}}, // wrong secret, form
		{"", false, exchange("stolen-or-guessed")},                                                          // client_id alone
		{"", false, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}},           // client_id alone
		{"", true, url.Values{"grant_type": {"client_credentials"}}},                                        // empty secret, Basic
	}
	var (
		limited, refused atomic.Int32
		unexpected       = make(chan string, 1)
		stop             = make(chan struct{})
		flooded          = make(chan struct{})
	)
	go func() {
		defer close(flooded)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a := attempts[i%len(attempts)]
			ans, err := o.tryToken(attacker, victim, a.secret, a.basic, a.form)
			switch {
			case err == nil && ans.tooMany():
				limited.Add(1)
			case err == nil && ans.status == http.StatusUnauthorized && ans.body["error"] == "invalid_client":
				refused.Add(1)
			default:
				unexpected <- fmt.Sprintf("attempt %d: %d %v %v", i, ans.status, ans.body, err)
				return
			}
		}
	}()
	o.eventually("the flood is limited", func() bool { return limited.Load() > 0 || len(unexpected) > 0 })

	// The victim, from its own address, exchanges its code and refreshes in
	// the middle of the flood.
	status, _, tok := o.token(o.app, true, exchange(code))
	if status != http.StatusOK || tok.RefreshToken == "" {
		t.Errorf("the client's code exchange during the flood: %d %+v", status, tok)
	}
	status, _, fresh := o.token(o.app, false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if status != http.StatusOK || fresh.AccessToken == "" {
		t.Errorf("the client's refresh during the flood: %d %+v", status, fresh)
	}
	close(stop)
	<-flooded
	select {
	case u := <-unexpected:
		t.Fatalf("the flood got an unexpected answer: %s", u)
	default:
	}
	t.Logf("flood: %d refused with 401, %d limited with 429", refused.Load(), limited.Load())

	t.Run("per address", func(t *testing.T) {
		// One address naming a fresh, unknown client_id each time: no client's
		// budget is spent twice, the address's is.
		e := o.forTest(t)
		from := clientFrom(t, "127.0.0.3")
		var first429 int
		for i := 1; i <= 30 && first429 == 0; i++ {
			ans := e.tokenAs(from, uuid.NewString(), "cgcs_wrong", true, exchange("x"))
			if ans.tooMany() {
				first429 = i
			} else if ans.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %v", i, ans.status, ans.body)
			}
		}
		if first429 == 0 {
			t.Fatal("30 failures from one address were never limited")
		}
		// Another address is not refused for it.
		if ans := e.tokenAs(clientFrom(t, "127.0.0.4"), uuid.NewString(), "cgcs_wrong", true, exchange("x")); ans.status != http.StatusUnauthorized {
			t.Fatalf("a failure from another address: %d %v", ans.status, ans.body)
		}
	})

	t.Run("per client with failures", func(t *testing.T) {
		// A failure from each of many addresses, all naming one client: its
		// failure budget runs out although no address's does.
		e := o.forTest(t)
		target := e.createOAuthApp("Target GPT", chatGPTCallback)
		var first429 int
		for i := 1; i <= 20 && first429 == 0; i++ {
			ans := e.tokenAs(clientFrom(t, fmt.Sprintf("127.0.1.%d", i)), target.AppID, "", false, exchange("x"))
			if ans.tooMany() {
				first429 = i
			} else if ans.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %v", i, ans.status, ans.body)
			}
		}
		if first429 == 0 {
			t.Fatal("20 failures naming one client were never limited")
		}
		// The client itself still gets its tokens.
		if status, _, r := e.token(target, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}); status != http.StatusOK {
			t.Fatalf("the client, after failures naming it: %d %+v", status, r)
		}
	})
}
