package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// scopeText says in plain words what each scope lets a GPT do.
var scopeText = map[string]string{
	oauth.ScopeRead:  "search and read what it has remembered about you",
	oauth.ScopeWrite: "remember new things, and correct or forget what it remembered",
}

// pages are the server-rendered sign-in and consent pages. They work without
// JavaScript, cannot be framed, and every form carries a CSRF token bound to a
// cookie (double submit).
type pages struct {
	store       Store
	apps        Apps
	users       query.AuthenticateUserHandler
	sessions    Sessions
	limiter     Limiter // nil: sign-in attempts are not limited
	now         func() time.Time
	secure      bool
	respondCode func(w http.ResponseWriter, r *http.Request, req *oauth.AuthRequest) // zitadel's code response
	logger      *slog.Logger
	upstream    *upstreamSignIn // nil: no upstream OpenID provider configured
	export      func(ctx context.Context, w io.Writer, userID, email string) error
}

func (p *pages) routes(r chi.Router) {
	r.Get(PathLogin, p.showLogin)
	r.Post(PathLogin, p.submitLogin)
	r.Get(PathConsent, p.showConsent)
	r.Post(PathConsent, p.submitConsent)
	r.Get(PathAccount, p.showAccount)
	r.Post(PathAccount, p.submitAccount)
	r.Get(PathAccountExport, p.exportAccount)
	if p.upstream != nil {
		p.upstream.routes(r)
	}
}

type pageData struct {
	Title, AppName, RequestID, CSRF, Email, Error string
	Scopes                                        []string
	Client                                        *clientView // consent to a client that registered itself
	UpstreamName                                  string      // "Sign in with …" on the login page

	// The account page: the signed-in user's GPTs, and what was just done.
	Connections []connection
	Notice      string
}

func (p *pages) sessionCookie() string {
	if p.secure {
		return "__Host-cgpt_session"
	}
	return "cgpt_session"
}

func (p *pages) csrfCookie() string {
	if p.secure {
		return "__Host-cgpt_csrf"
	}
	return "cgpt_csrf"
}

func (p *pages) render(w http.ResponseWriter, status int, name string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if p.upstream != nil {
		d.UpstreamName = p.upstream.name
	}
	if err := templates.ExecuteTemplate(w, name, d); err != nil && p.logger != nil {
		p.logger.Error("render page", "page", name, "error", err)
	}
}

func (p *pages) fail(w http.ResponseWriter, status int, title, msg string) {
	p.render(w, status, "error.html", pageData{Title: title, Error: msg})
}

// csrf returns the browser's CSRF token, setting a fresh cookie when it has none.
func (p *pages) csrf(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.csrfCookie()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: p.csrfCookie(), Value: token, Path: "/", HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return token
}

// checkCSRF compares the form's token with the cookie's in constant time.
func (p *pages) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(p.csrfCookie())
	form := r.PostFormValue("csrf")
	return err == nil && len(c.Value) == 43 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// request loads the authorization request and its application for a page.
func (p *pages) request(w http.ResponseWriter, r *http.Request, id string) (*oauth.AuthRequest, string, bool) {
	req, err := p.store.AuthRequest(r.Context(), id, p.now())
	if err != nil {
		p.fail(w, http.StatusBadRequest, "This sign-in link has expired", "The request is unknown or has expired.")
		return nil, "", false
	}
	app, err := p.apps.Get(r.Context(), req.AppID)
	if err != nil || app.Authorize() != nil {
		p.fail(w, http.StatusBadRequest, "This GPT cannot connect", "The application is unknown or disabled.")
		return nil, "", false
	}
	return req, app.Name(), true
}

func (p *pages) session(r *http.Request) (oauth.Session, bool) {
	c, err := r.Cookie(p.sessionCookie())
	if err != nil {
		return oauth.Session{}, false
	}
	s, err := p.sessions.Session(r.Context(), c.Value)
	return s, err == nil
}

func (p *pages) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	_, appName, ok := p.request(w, r, id)
	if !ok {
		return
	}
	if _, signedIn := p.session(r); signedIn {
		http.Redirect(w, r, PathConsent+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	p.render(w, http.StatusOK, "login.html", pageData{Title: "Sign in", AppName: appName, RequestID: id, CSRF: p.csrf(w, r)})
}

func (p *pages) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id, email := r.PostFormValue("id"), r.PostFormValue("email")
	var appName string
	if id != "" { // no id: signing in to the account page
		var ok bool
		if _, appName, ok = p.request(w, r, id); !ok {
			return
		}
	}
	again := func(status int, msg string) {
		p.render(w, status, "login.html", pageData{Title: "Sign in", AppName: appName, RequestID: id,
			CSRF: p.csrf(w, r), Email: email, Error: msg})
	}
	if !p.checkCSRF(r) {
		again(http.StatusForbidden, "Your sign-in form expired. Please try again.")
		return
	}
	if wait := p.limited(r, email); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		again(http.StatusTooManyRequests, "Too many sign-in attempts. Please wait a minute and try again.")
		return
	}
	userID, err := p.users.Handle(r.Context(), query.AuthenticateUser{Email: email, Password: r.PostFormValue("password")})
	switch errs.KindOf(err) {
	case errs.KindUnauthorized:
		again(http.StatusUnauthorized, "The email or password is wrong.")
		return
	case errs.KindForbidden:
		again(http.StatusForbidden, "This account is disabled.")
		return
	}
	if err != nil {
		again(http.StatusServiceUnavailable, "Sign-in is unavailable right now. Please try again later.")
		return
	}
	if err := p.startSession(w, r, userID); err != nil {
		again(http.StatusServiceUnavailable, "Sign-in is unavailable right now. Please try again later.")
		return
	}
	http.Redirect(w, r, afterSignIn(id), http.StatusSeeOther)
}

// afterSignIn is where a browser goes once signed in: the consent page of the
// authorization request it signed in for, or the account page when none.
func afterSignIn(id string) string {
	if id == "" {
		return PathAccount
	}
	return PathConsent + "?id=" + url.QueryEscape(id)
}

// startSession signs the browser in as userID, whichever way they proved who
// they are (password or upstream provider).
func (p *pages) startSession(w http.ResponseWriter, r *http.Request, userID string) error {
	token, err := p.sessions.CreateSession(r.Context(), userID, p.now())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: p.sessionCookie(), Value: token, Path: "/", HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(oauth.SessionLifetime / time.Second)})
	return nil
}

// limited applies the per-account and per-address budgets before any password
// hashing runs.
func (p *pages) limited(r *http.Request, email string) time.Duration {
	if p.limiter == nil {
		return 0
	}
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	var worst time.Duration
	for _, b := range []struct {
		budget Budget
		key    string
	}{{BudgetLoginAccount, user.NormalizeEmail(email)}, {BudgetLoginAddress, addr}} {
		wait, err := p.limiter.Allow(r.Context(), string(b.budget), b.key)
		if err != nil {
			return 0 // fail open: the password check itself still runs
		}
		worst = max(worst, wait)
	}
	return worst
}

func (p *pages) showConsent(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	req, appName, ok := p.request(w, r, id)
	if !ok {
		return
	}
	s, signedIn := p.session(r)
	if !signedIn {
		http.Redirect(w, r, PathLogin+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	scopes := make([]string, 0, len(req.Scopes))
	for _, sc := range req.Scopes {
		scopes = append(scopes, scopeText[sc])
	}
	client, err := p.clientView(r, req)
	if err != nil {
		p.unavailable(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "consent.html", pageData{Title: "Allow access", AppName: appName, RequestID: id,
		CSRF: p.csrf(w, r), Email: s.Email, Scopes: scopes, Client: client})
}

func (p *pages) submitConsent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id := r.PostFormValue("id")
	req, _, ok := p.request(w, r, id)
	if !ok {
		return
	}
	if !p.checkCSRF(r) {
		p.fail(w, http.StatusForbidden, "Your consent form expired", "Please go back and try again.")
		return
	}
	s, signedIn := p.session(r)
	if !signedIn {
		http.Redirect(w, r, PathLogin+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	if r.PostFormValue("decision") != "allow" {
		_ = p.store.DeleteAuthRequest(r.Context(), id)
		http.Redirect(w, r, errorRedirect(req, "access_denied", "the user denied access"), http.StatusSeeOther)
		return
	}
	if err := p.store.CompleteAuthRequest(r.Context(), id, s.UserID, s.AuthTime, p.now()); err != nil {
		if errors.Is(err, oauth.ErrNotFound) {
			p.fail(w, http.StatusBadRequest, "This sign-in link has expired", "The request is unknown or has expired.")
			return
		}
		p.fail(w, http.StatusServiceUnavailable, "Something went wrong", "Please try again later.")
		return
	}
	// The code goes to this browser, in the answer to its own consent: never
	// through a callback URL that anyone who knows the request id could call.
	req.Subject, req.AuthTime, req.Done = s.UserID, s.AuthTime, true
	w.Header().Set("Cache-Control", "no-store")
	p.respondCode(w, r, req)
}

// errorRedirect sends an error back to the client's registered redirect URI,
// with the state unchanged (RFC 6749 4.1.2.1).
func errorRedirect(req *oauth.AuthRequest, code, description string) string {
	u, _ := url.Parse(req.RedirectURI) // registered and validated at /authorize
	q := u.Query()
	q.Set("error", code)
	q.Set("error_description", description)
	if req.State != "" {
		q.Set("state", req.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
