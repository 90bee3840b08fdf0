package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The end user's rows send what a GPT connected with OAuth sends: an access
// token of one person, whose requests spend the application's budget and
// their own, in their own memory scope. The token is got the way ChatGPT and
// its user get one: the authorization code flow, through the sign-in and
// consent pages, with PKCE.
const (
	endUserEmail = "load-user@example.com"
	// callbackURI is registered as a GPT's is; nothing is sent to it: the
	// code is read from the redirect that points there.
	callbackURI = "https://chatgpt.com/aip/g-load/oauth/callback"
	oauthScopes = "memories:read memories:write"
)

// endUser is the bench application's one end user.
type endUser struct {
	id       string // user_id from users create: the token's subject
	password string
	token    string // an access token, once signed in
}

// createUser makes the end user's account, as an operator does: the
// password on stdin.
func (a *adapter) createUser(ctx context.Context) (endUser, error) {
	u := endUser{password: randomHex(16)}
	out, err := a.cliWithInput(ctx, strings.NewReader(u.password+"\n"), "users", "create", "--email", endUserEmail)
	if err != nil {
		return endUser{}, err
	}
	var created struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.UserID == "" {
		return endUser{}, fmt.Errorf("users create printed %q (%v)", out, err)
	}
	u.id = created.UserID
	return u, nil
}

// signIn connects the end user to the bench application against the
// running api and keeps the access token. It lasts an hour by default,
// longer than a run.
func (a *adapter) signIn(ctx context.Context) error {
	verifier := make([]byte, 32)
	_, _ = rand.Read(verifier)
	pkce := base64.RawURLEncoding.EncodeToString(verifier)
	challenge := sha256.Sum256([]byte(pkce))
	state := randomHex(16)
	query := url.Values{
		"response_type": {"code"}, "client_id": {a.appID}, "redirect_uri": {callbackURI},
		"scope": {oauthScopes}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}
	code, err := authorize(ctx, a.url, a.url+"/oauth/authorize?"+query.Encode(), state, endUserEmail, a.user.password)
	if err != nil {
		return fmt.Errorf("signing the end user in: %w", err)
	}
	token, err := exchangeCode(ctx, a.url, a.appID, a.clientSecret, code, pkce)
	if err != nil {
		return fmt.Errorf("exchanging the end user's code: %w", err)
	}
	a.user.token = token
	return nil
}

// checkBudgets makes sure the end user's rows measure what they say: each
// request spends the application's budget and the user's, and neither
// refuses anything (both as high as set-limits takes), as the answer's
// RateLimit-Policy tells.
func (a *adapter) checkBudgets(ctx context.Context) error {
	body, _ := json.Marshal(map[string]any{"query": searchQuery, "limit": searchLimit})
	req := jsonPost(a.url+"/api/v1/search", body, "Authorization", "Bearer "+a.user.token).WithContext(ctx)
	resp, err := newClient(1).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	policy := resp.Header.Get("RateLimit-Policy")
	for _, budget := range []string{"app", "user"} {
		if want := fmt.Sprintf("%q;q=%s;w=1;cgpt-burst=%s", budget, maxRPS, maxBurst); !strings.Contains(policy, want) {
			return fmt.Errorf("the end user's search: RateLimit-Policy %q lacks %s (answer %d %.300s)", policy, want, resp.StatusCode, raw)
		}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the end user's search answered %d: %.300s", resp.StatusCode, raw)
	}
	return nil
}

// hiddenField is a form's id or csrf field on the sign-in and consent pages.
var hiddenField = regexp.MustCompile(`name="(id|csrf)" value="([^"]*)"`)

// authorize is the browser's part: it follows the redirects from authURL
// with its cookies, signs in and allows on the pages it meets, and returns
// the code of the redirect to callbackURI, whose state must be the one
// sent.
func authorize(ctx context.Context, base, authURL, state, email, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Request, error) { return http.NewRequestWithContext(ctx, http.MethodGet, u, nil) }
	post := func(path string, page string, form url.Values) (*http.Request, error) {
		for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}
	req, err := get(authURL)
	signedIn := false
	for range 10 { // authorize, sign-in page, its post, consent page, its post: a few hops
		if err != nil {
			return "", err
		}
		var resp *http.Response
		if resp, err = browser.Do(req); err != nil {
			return "", err
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		page := string(raw)
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			var loc *url.URL
			if loc, err = req.URL.Parse(resp.Header.Get("Location")); err != nil {
				return "", err
			}
			if strings.HasPrefix(loc.String(), callbackURI+"?") {
				return codeFrom(loc, state)
			}
			req, err = get(loc.String())
		case resp.StatusCode == http.StatusOK && strings.Contains(page, `action="/oauth/login"`):
			if signedIn {
				return "", fmt.Errorf("the sign-in page came back after signing in: %.300s", page)
			}
			signedIn = true
			req, err = post("/oauth/login", page, url.Values{"email": {email}, "password": {password}})
		case resp.StatusCode == http.StatusOK && strings.Contains(page, `action="/oauth/consent"`):
			req, err = post("/oauth/consent", page, url.Values{"decision": {"allow"}})
		default:
			return "", fmt.Errorf("%s %s answered %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, page)
		}
	}
	return "", fmt.Errorf("no redirect to the callback after 10 hops")
}

// codeFrom is the code of the redirect to the callback, refused unless it
// carries the state sent (as ChatGPT refuses it).
func codeFrom(callback *url.URL, state string) (string, error) {
	q := callback.Query()
	switch {
	case q.Get("error") != "":
		return "", fmt.Errorf("the callback got error %q: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != state:
		return "", fmt.Errorf("the callback got state %q, want %q", q.Get("state"), state)
	case q.Get("code") == "":
		return "", fmt.Errorf("the callback got no code: %s", callback)
	}
	return q.Get("code"), nil
}

// exchangeCode is the client's part: the code and the PKCE verifier for an
// access token at the token endpoint, authenticated with the client secret.
func exchangeCode(ctx context.Context, base, clientID, secret, code, verifier string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callbackURI}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" ||
		!strings.EqualFold(tok.TokenType, "Bearer") || !sameScopes(tok.Scope, oauthScopes) {
		return "", fmt.Errorf("the token endpoint answered %d: %.300s", resp.StatusCode, raw)
	}
	return tok.AccessToken, nil
}

// sameScopes compares two space-separated scope lists in any order.
func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
