// Package oidctest is a small OpenID provider for tests, serving on loopback:
// discovery, JWKS, an authorize endpoint that signs the current user in at once
// (no login page, consent auto-approved), token and userinfo. It is as strict
// as a real provider where the service under test must behave (exact redirect
// URI, PKCE with S256 required, single-use codes, client authentication), and
// lets tests misbehave on purpose: sign the ID token wrongly, rotate its
// signing key, and fail, slow down or answer for another subject at userinfo.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Config is the one client the provider knows.
type Config struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string // matched exactly
}

// User is whoever is "signed in" at the provider when the browser arrives.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	// EmailOnlyInUserinfo leaves email and email_verified out of the ID token,
	// as many providers do; userinfo still has them.
	EmailOnlyInUserinfo bool
}

// Provider is a running fake OpenID provider.
type Provider struct {
	cfg     Config
	srv     *httptest.Server
	foreign *rsa.PrivateKey // signs ID tokens when SignWithForeignKey is on
	closed  chan struct{}   // ends every wait of a slow userinfo

	mu          sync.Mutex
	keys        []signingKey // the JWKS; the last one signs
	keyFetches  int
	user        User
	deny        string
	tamper      func(claims map[string]any)
	useForeign  bool
	userinfo    userinfoFault
	codes       map[string]*grant
	tokens      map[string]User
	authorizeQs []url.Values
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// userinfoFault is how userinfo misbehaves; the zero value is not at all.
type userinfoFault struct {
	status  int           // answer this error status instead
	delay   time.Duration // answer this late, or when the caller gives up
	subject string        // answer for this subject instead of the token's
}

type grant struct {
	user                       User
	nonce, challenge, redirect string
	expires                    time.Time
}

// NewProvider starts a provider on 127.0.0.1, stopped when the test ends.
func NewProvider(t testing.TB, cfg Config) *Provider {
	t.Helper()
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{cfg: cfg, foreign: foreign, closed: make(chan struct{}), codes: map[string]*grant{}, tokens: map[string]User{}}
	if err := p.addKey(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfoEndpoint)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(p.closed)
		p.srv.Close()
	})
	return p
}

func (p *Provider) addKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, signingKey{kid: fmt.Sprintf("oidctest-%d", len(p.keys)+1), key: key})
	return nil
}

// RotateKey signs the following ID tokens with a new key under a new kid. The
// JWKS publishes it next to the earlier ones, as a provider does while tokens
// signed by those may still be in flight; a relying party that cached the
// JWKS must fetch it again to verify the new tokens.
func (p *Provider) RotateKey() error { return p.addKey() }

// KeyFetches tells how many times the JWKS was fetched.
func (p *Provider) KeyFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keyFetches
}

// FailUserinfo makes userinfo answer with this HTTP status (and an OAuth
// error body) instead of the claims; 0 ends it.
func (p *Provider) FailUserinfo(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfo.status = status
}

// SlowUserinfo makes userinfo answer only after d, or not at all if the
// caller gives up first; 0 ends it.
func (p *Provider) SlowUserinfo(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfo.delay = d
}

// UserinfoSubject makes userinfo answer for this subject, whoever the token
// is for (OpenID Connect Core 5.3.2: the client must then not use the
// answer); "" ends it.
func (p *Provider) UserinfoSubject(sub string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfo.subject = sub
}

// Issuer is the provider's issuer URL: http://127.0.0.1:port.
func (p *Provider) Issuer() string { return p.srv.URL }

// SignInAs makes u the user every following authorization signs in.
func (p *Provider) SignInAs(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// Deny makes the following authorizations answer with this OAuth error code
// (e.g. access_denied) instead of a code; "" ends it.
func (p *Provider) Deny(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = code
}

// Tamper changes the claims of the following ID tokens before they are
// signed; nil ends it.
func (p *Provider) Tamper(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// SignWithForeignKey signs the following ID tokens with a key that is not in
// the JWKS (same kid), as an attacker would.
func (p *Provider) SignWithForeignKey(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.useForeign = on
}

// AuthorizeRequests returns the query of every authorization request so far.
func (p *Provider) AuthorizeRequests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.authorizeQs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := p.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "email"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.keyFetches++
	set := jose.JSONWebKeySet{}
	for _, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// authorize signs the current user in at once. Requests it cannot trust get
// a 400 page, never a redirect, as the spec requires for a bad client or
// redirect URI; it is also refused here without PKCE (S256) or a nonce, so a
// test fails loudly if the service stops sending them.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.authorizeQs = append(p.authorizeQs, q)
	user, deny := p.user, p.deny
	p.mu.Unlock()
	switch {
	case q.Get("client_id") != p.cfg.ClientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") != p.cfg.RedirectURI:
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "need response_type=code and scope openid", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case q.Get("nonce") == "" || q.Get("state") == "":
		http.Error(w, "nonce and state are required", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(p.cfg.RedirectURI)
	v := back.Query()
	v.Set("state", q.Get("state"))
	if deny != "" {
		v.Set("error", deny)
	} else {
		code := random()
		p.mu.Lock()
		p.codes[code] = &grant{user: user, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
			redirect: q.Get("redirect_uri"), expires: time.Now().Add(time.Minute)}
		p.mu.Unlock()
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id) // RFC 6749 2.3.1: form-encoded before Basic
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != p.cfg.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.cfg.ClientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // single use, whatever happens next
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case !ok || time.Now().After(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case r.PostFormValue("redirect_uri") != g.redirect:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	idToken, err := p.idToken(g)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	access := random()
	p.mu.Lock()
	p.tokens[access] = g.user
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (p *Provider) idToken(g *grant) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer(), "sub": g.user.Subject, "aud": p.cfg.ClientID, "azp": p.cfg.ClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "auth_time": now.Unix(), "nonce": g.nonce,
	}
	if !g.user.EmailOnlyInUserinfo {
		claims["email"], claims["email_verified"] = g.user.Email, g.user.EmailVerified
	}
	p.mu.Lock()
	tamper, current := p.tamper, p.keys[len(p.keys)-1]
	key := current.key
	if p.useForeign {
		key = p.foreign // under the current kid, as an attacker would
	}
	p.mu.Unlock()
	if tamper != nil {
		tamper(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: current.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (p *Provider) userinfoEndpoint(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	u, known := p.tokens[token]
	fault := p.userinfo
	p.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if fault.delay > 0 {
		select {
		case <-time.After(fault.delay):
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		}
	}
	if fault.status != 0 {
		oauthError(w, fault.status, "server_error", "userinfo failed on purpose")
		return
	}
	sub := u.Subject
	if fault.subject != "" {
		sub = fault.subject
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": sub, "email": u.Email, "email_verified": u.EmailVerified})
}

func random() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
