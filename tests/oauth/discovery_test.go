package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// Discovery advertises exactly what works: every endpoint it names answers
// (and does not send the browser to a 404), every response type, response
// mode, grant type, client authentication method, PKCE method and scope it
// lists is accepted, and it says nothing that no check here proves.
func TestDiscoveryAdvertisesOnlyWhatWorks(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	_, _, d := o.Call("GET", "/.well-known/openid-configuration", "", nil)
	_, _, rfc8414 := o.Call("GET", "/.well-known/oauth-authorization-server", "", nil)
	if !reflect.DeepEqual(d, rfc8414) {
		t.Fatalf("the two documents differ:\n%v\n%v", d, rfc8414)
	}
	proven := map[string]bool{}
	list := func(key string) []string {
		proven[key] = true
		if d[key] == nil && key == "response_modes_supported" {
			return []string{"query", "fragment"} // what leaving it out means (RFC 8414 2)
		}
		var out []string
		for _, v := range d[key].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	plain := clientFrom(t, "127.0.0.1")

	for key, v := range d {
		if !strings.HasSuffix(key, "_endpoint") && key != "jwks_uri" {
			continue
		}
		proven[key] = true
		path, ok := strings.CutPrefix(v.(string), o.Base)
		if !ok {
			t.Errorf("%s %q is not on the issuer's origin", key, v)
			continue
		}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, o.Base+path, nil)
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			status, loc := resp.StatusCode, resp.Header.Get("Location")
			if status/100 == 3 && loc != "" {
				next, _ := url.Parse(loc)
				target := resp.Request.URL.ResolveReference(next)
				if target.Host == req.URL.Host {
					if r2, err := plain.Get(target.String()); err == nil {
						r2.Body.Close()
						status = r2.StatusCode
					}
				}
			}
			if status == http.StatusNotFound {
				t.Errorf("%s %s (%s) leads to a 404", method, path, key)
			}
		}
	}

	for _, rt := range list("response_types_supported") {
		q := harness.AuthorizeQuery(o.App, "rt")
		q.Set("response_type", rt)
		code, hdr, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		if code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/oauth/login?") {
			t.Errorf("response_type %q is refused: %d %q %s", rt, code, hdr.Get("Location"), body)
		}
	}

	// One flow per response mode, each ending in a code redeemed at the token endpoint.
	var refreshToken string
	for _, mode := range list("response_modes_supported") {
		q := harness.AuthorizeQuery(o.App, "mode-"+mode)
		q.Set("response_mode", mode)
		cb := harness.NewBrowser(o.Deployment).Authorize(q, harness.AliceEmail, harness.AlicePassword)
		if mode != "query" || cb.Query().Get("code") == "" || cb.Query().Get("state") != "mode-"+mode {
			t.Errorf("response_mode %q: callback %s", mode, cb)
			continue
		}
		status, _, tok := o.Token(o.App, true, harness.Exchange(cb.Query().Get("code")))
		if status != http.StatusOK {
			t.Fatalf("code of response_mode %q: %d %+v", mode, status, tok)
		}
		refreshToken = tok.RefreshToken
	}

	for _, grant := range list("grant_types_supported") {
		var form url.Values
		switch grant {
		case "authorization_code":
			form = harness.Exchange(o.Code(harness.AuthorizeQuery(o.App, "grant")))
		case "refresh_token":
			form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
		case "client_credentials":
			form = url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}}
		default:
			t.Errorf("grant type %q is advertised, and no check here proves it works", grant)
			continue
		}
		if status, _, tok := o.Token(o.App, true, form); status != http.StatusOK || tok.AccessToken == "" {
			t.Errorf("grant type %q: %d %+v", grant, status, tok)
		}
	}

	// Client authentication, at each endpoint that takes it: Basic credentials
	// to send, or credentials put in the form.
	authenticate := func(method string, form url.Values) (clientID, secret string, known bool) {
		switch method {
		case "client_secret_basic":
			return o.App.AppID, o.App.ClientSecret, true
		case "client_secret_post":
			form.Set("client_id", o.App.AppID)
			form.Set("client_secret", o.App.ClientSecret)
			return "", "", true
		}
		return "", "", false
	}
	for key, call := range map[string]struct {
		path string
		form url.Values
		ok   func(map[string]any) bool
	}{
		"token_endpoint_auth_methods_supported": {"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"memories:read"}},
			func(b map[string]any) bool { return b["access_token"] != nil }},
		"introspection_endpoint_auth_methods_supported": {"/oauth/introspect", url.Values{"token": {"x"}},
			func(b map[string]any) bool { return b["active"] == false }},
		"revocation_endpoint_auth_methods_supported": {"/oauth/revoke", url.Values{"token": {"x"}},
			func(map[string]any) bool { return true }},
	} {
		for _, method := range list(key) {
			if method == "none" && key == "token_endpoint_auth_methods_supported" {
				continue // a public client's code exchange, below
			}
			form := maps.Clone(call.form)
			clientID, secret, known := authenticate(method, form)
			if !known {
				t.Errorf("%s: %q is advertised, and no check here proves it works", key, method)
				continue
			}
			code, _, body := o.PostForm(call.path, form, clientID, secret)
			if code != http.StatusOK || !call.ok(body) {
				t.Errorf("%s: %q at %s: %d %v", key, method, call.path, code, body)
			}
		}
	}

	// A client registers itself (RFC 7591), public, and redeems its code for
	// an MCP endpoint with no secret: "none" at the token endpoint.
	o.SetMCP(o.App.AppID, true)
	proven["registration_endpoint"] = true
	public := o.RegisterPublicClient("Discovery check")
	form := harness.MCPExchange(o.Code(o.RegisteredAuthorizeQuery(public, o.App.AppID, "none")), o.MCPResource(o.App.AppID))
	form.Set("client_id", public)
	form.Set("redirect_uri", harness.LoopbackCallback)
	if code, _, body := o.PostForm("/oauth/token", form, "", ""); code != http.StatusOK || body["access_token"] == nil {
		t.Errorf("token_endpoint_auth_methods_supported: \"none\" for a registered public client: %d %v", code, body)
	}

	// A client_id that is an https URL is fetched as a metadata document:
	// here refused for its loopback address, after a look.
	if d["client_id_metadata_document_supported"] == true {
		q := o.RegisteredAuthorizeQuery("https://127.0.0.1:9/client.json", o.App.AppID, "cimd")
		code, _, body := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		proven["client_id_metadata_document_supported"] = code == http.StatusBadRequest && strings.Contains(body, "loopback")
		if !proven["client_id_metadata_document_supported"] {
			t.Errorf("a metadata document's client_id: %d %s", code, body)
		}
	}

	for _, method := range list("code_challenge_methods_supported") {
		if method != "S256" {
			t.Errorf("PKCE method %q is advertised, and no check here proves it works", method)
			continue
		}
		verifier := strings.Repeat("v", 43)
		sum := sha256.Sum256([]byte(verifier))
		q := harness.AuthorizeQuery(o.App, "pkce")
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", method)
		form := harness.Exchange(o.Code(q))
		form.Set("code_verifier", verifier)
		if status, _, tok := o.Token(o.App, true, form); status != http.StatusOK {
			t.Errorf("PKCE %s: %d %+v", method, status, tok)
		}
	}

	for _, scope := range list("scopes_supported") {
		status, _, tok := o.Token(o.App, true, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
		if status != http.StatusOK || tok.Scope != scope {
			t.Errorf("scope %q: %d %+v", scope, status, tok)
		}
	}

	// RFC 9207: every authorization response names the issuer, the code's
	// and an error's (here zitadel's refusal of an oversized nonce).
	if d["authorization_response_iss_parameter_supported"] == true {
		cb := harness.NewBrowser(o.Deployment).Authorize(harness.AuthorizeQuery(o.App, "iss"), harness.AliceEmail, harness.AlicePassword)
		q := harness.AuthorizeQuery(o.App, "iss-error")
		q.Set("nonce", strings.Repeat("n", 1025))
		status, hdr, _ := harness.NewBrowser(o.Deployment).Get("/oauth/authorize?" + q.Encode())
		refused, _ := url.Parse(hdr.Get("Location"))
		proven["authorization_response_iss_parameter_supported"] = cb.Query().Get("code") != "" && cb.Query().Get("iss") == o.Base &&
			status >= 300 && status < 400 && refused.Query().Get("error") != "" && refused.Query().Get("iss") == o.Base
		if !proven["authorization_response_iss_parameter_supported"] {
			t.Errorf("iss: the code's callback %s, the refusal's %d %s", cb, status, refused)
		}
	}

	// What the rest says is true by construction.
	proven["issuer"] = d["issuer"] == o.Base
	proven["request_uri_parameter_supported"] = d["request_uri_parameter_supported"] == false
	// sub is the end user's id, the same whichever client asks.
	proven["subject_types_supported"] = fmt.Sprint(d["subject_types_supported"]) == "[public]"
	// The sign-in and consent pages are in English.
	proven["ui_locales_supported"] = fmt.Sprint(d["ui_locales_supported"]) == "[en]"
	for key := range d {
		if !proven[key] {
			t.Errorf("discovery advertises %s = %v, and no check here proves it", key, d[key])
		}
	}
}

// Sign-out at the advertised end_session_endpoint ends the browser's session
// on the server, not only its cookie.
func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	o := harness.NewOAuthEnv(t, nil)
	b := harness.NewBrowser(o.Deployment)
	b.Authorize(harness.AuthorizeQuery(o.App, "signed-in"), harness.AliceEmail, harness.AlicePassword)
	base, _ := url.Parse(o.Base)
	var session *http.Cookie
	for _, c := range b.C.Jar.Cookies(base) {
		if c.Name == "cgpt_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after signing in")
	}

	code, _, page := b.Get("/oauth/logout")
	f := harness.Fields(page)
	if code != http.StatusOK || !strings.Contains(page, harness.AliceEmail) || !strings.Contains(page, `action="/oauth/logout"`) || f["csrf"] == "" {
		t.Fatalf("sign-out page: %d %s", code, page)
	}
	if code, _, page := b.Post("/oauth/logout", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("sign-out with a forged CSRF token: %d %s", code, page)
	}
	code, _, page = b.Post("/oauth/logout", url.Values{"csrf": {f["csrf"]}})
	if code != http.StatusOK || !strings.Contains(page, "You are signed out") {
		t.Fatalf("sign-out: %d %s", code, page)
	}

	// Signed out: the next connection asks for a password again, in this
	// browser and in any browser that replays the old cookie.
	replay := harness.NewBrowser(o.Deployment)
	replay.C.Jar.SetCookies(base, []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/"}})
	for name, br := range map[string]*harness.Browser{"same browser": b, "replayed cookie": replay} {
		_, hdr, _ := br.Get("/oauth/authorize?" + harness.AuthorizeQuery(o.App, "again").Encode())
		code, hdr, _ := br.Get(hdr.Get("Location"))
		if code != http.StatusOK || hdr.Get("Location") != "" {
			t.Errorf("%s after sign-out: %d to %q, want the sign-in page", name, code, hdr.Get("Location"))
		}
	}
}

// The protocol endpoints answer cross-origin requests only for configured
// origins, and never with credentials.
func TestOAuthCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	t.Parallel()
	const listed = "https://app.example.com"
	byDefault := harness.NewOAuthEnv(t, nil)
	configured := harness.NewOAuthEnv(t, map[string]string{"CUSTOM_GPT_OAUTH_CORS_ORIGINS": listed + ",http://localhost:3000"})

	type call struct{ method, path string }
	calls := []call{{"GET", "/.well-known/openid-configuration"}, {"GET", "/.well-known/oauth-authorization-server"},
		{"GET", "/oauth/keys"}, {"POST", "/oauth/token"}, {"POST", "/oauth/introspect"}, {"POST", "/oauth/revoke"},
		{"GET", "/oauth/userinfo"}, {"OPTIONS", "/oauth/token"}, {"POST", "/oauth/register"}, {"OPTIONS", "/oauth/register"}}
	send := func(o *harness.OauthEnv, c call, origin string) http.Header {
		t.Helper()
		req, _ := http.NewRequest(c.method, o.Base+c.path, nil)
		req.Header.Set("Origin", origin)
		if c.method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	for _, c := range calls {
		for name, o := range map[string]*harness.OauthEnv{"by default": byDefault, "configured": configured} {
			for _, origin := range []string{"https://evil.example", "null", listed + ".evil.example"} {
				if h := send(o, c, origin); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s: %s %s from %s: Allow-Origin %q, Allow-Credentials %q", name, c.method, c.path, origin,
						h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
				}
			}
		}
		if h := send(byDefault, c, listed); h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("by default: %s %s from %s: Allow-Origin %q", c.method, c.path, listed, h.Get("Access-Control-Allow-Origin"))
		}
		h := send(configured, c, listed)
		if h.Get("Access-Control-Allow-Origin") != listed || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("configured: %s %s from %s: Allow-Origin %q, Allow-Credentials %q", c.method, c.path, listed,
				h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
		}
		if c.method == http.MethodOptions && !strings.Contains(h.Get("Access-Control-Allow-Methods"), http.MethodPost) {
			t.Errorf("configured: preflight of %s allows %q", c.path, h.Get("Access-Control-Allow-Methods"))
		}
	}
}
