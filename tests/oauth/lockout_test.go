package oauth

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
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

// The token endpoint's budgets are spent by the outcome of client
// authentication: an attacker who floods it with the victim's public
// client_id, with wrong secrets or none, is refused with 429 per address and
// per client, and the victim, whose requests authenticate, keeps exchanging
// codes and refreshing.
func TestTokenEndpointFloodDoesNotLockOutTheClient(t *testing.T) {
	t.Parallel()
	// Per second: 1 token request of the client (bursts of 2), 1 failure naming
	// a client (bursts of 2), 4 failures from an address (bursts of 8).
	o := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_TOKEN_RATE": "1"})
	victim := o.App.AppID
	code := o.Code(harness.AuthorizeQuery(o.App, "victim-state"))

	// The flood, from one address, in every way of failing to authenticate as
	// the victim; it goes on while the victim works.
	attacker := clientFrom(t, "127.0.0.2")
	attempts := []struct {
		secret string
		basic  bool
		form   url.Values
	}{
		{"cgcs_wrong", true, harness.Exchange("stolen-or-guessed")},                                         // wrong secret, Basic
		{"cgcs_wrong", false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"cgrt_guess"}}}, // wrong secret, form
		{"", false, harness.Exchange("stolen-or-guessed")},                                                  // client_id alone
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
			ans, err := o.TryToken(attacker, victim, a.secret, a.basic, a.form)
			switch {
			case err == nil && ans.TooMany():
				limited.Add(1)
			case err == nil && ans.Status == http.StatusUnauthorized && ans.Body["error"] == "invalid_client":
				refused.Add(1)
			default:
				unexpected <- fmt.Sprintf("attempt %d: %d %v %v", i, ans.Status, ans.Body, err)
				return
			}
		}
	}()
	o.Eventually("the flood is limited", func() bool { return limited.Load() > 0 || len(unexpected) > 0 })

	// The victim, from its own address, exchanges its code and refreshes in
	// the middle of the flood.
	status, _, tok := o.Token(o.App, true, harness.Exchange(code))
	if status != http.StatusOK || tok.RefreshToken == "" {
		t.Errorf("the client's code exchange during the flood: %d %+v", status, tok)
	}
	status, _, fresh := o.Token(o.App, false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
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
		e := o.ForTest(t)
		from := clientFrom(t, "127.0.0.3")
		var first429 int
		for i := 1; i <= 30 && first429 == 0; i++ {
			ans := e.TokenAs(from, uuid.NewString(), "cgcs_wrong", true, harness.Exchange("x"))
			if ans.TooMany() {
				first429 = i
			} else if ans.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %v", i, ans.Status, ans.Body)
			}
		}
		if first429 == 0 {
			t.Fatal("30 failures from one address were never limited")
		}
		// Another address is not refused for it.
		if ans := e.TokenAs(clientFrom(t, "127.0.0.4"), uuid.NewString(), "cgcs_wrong", true, harness.Exchange("x")); ans.Status != http.StatusUnauthorized {
			t.Fatalf("a failure from another address: %d %v", ans.Status, ans.Body)
		}
	})

	t.Run("per client with failures", func(t *testing.T) {
		// A failure from each of many addresses, all naming one client: its
		// failure budget runs out although no address's does.
		e := o.ForTest(t)
		target := e.CreateOAuthApp("Target GPT", harness.ChatGPTCallback)
		var first429 int
		for i := 1; i <= 20 && first429 == 0; i++ {
			ans := e.TokenAs(clientFrom(t, fmt.Sprintf("127.0.1.%d", i)), target.AppID, "", false, harness.Exchange("x"))
			if ans.TooMany() {
				first429 = i
			} else if ans.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %v", i, ans.Status, ans.Body)
			}
		}
		if first429 == 0 {
			t.Fatal("20 failures naming one client were never limited")
		}
		// The client itself still gets its tokens.
		if status, _, r := e.Token(target, true, url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}); status != http.StatusOK {
			t.Fatalf("the client, after failures naming it: %d %+v", status, r)
		}
	})
}
