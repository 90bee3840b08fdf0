package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Paths of sign-in through the upstream OpenID provider. The callback, on the
// public URL, is the redirect URI to register at the provider.
const (
	PathUpstreamStart    = "/oauth/upstream/start"
	PathUpstreamCallback = "/oauth/upstream/callback"
)

// Upstream configures sign-in through an upstream OpenID provider, offered on
// the login page next to the password form.
type Upstream struct {
	Issuer       string // compared exactly with the provider's discovery document and ID tokens
	ClientID     string
	ClientSecret string
	Name         string // shown on the "Sign in with …" button
	// Users finds or creates the local user of who signed in upstream.
	Users command.SignInUpstreamUserHandler
	// HTTPClient calls the provider (discovery, keys, token, userinfo);
	// nil is a client with a 10 second timeout.
	HTTPClient *http.Client
}

const (
	upstreamScopes       = "openid email"
	upstreamNonceCookie  = "nonce"
	upstreamCookieMaxAge = 10 * time.Minute // as long as an authorization request lives
	upstreamDiscoveryMax = 10 * time.Second
)

// upstreamSigningAlgs: ID tokens must carry an asymmetric signature by a key
// from the provider's JWKS; never "none", never an HMAC keyed with our secret.
var upstreamSigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// upstreamSignIn runs the authorization-code flow against the provider with
// zitadel's rp package: PKCE (S256), and state and nonce kept in encrypted,
// authenticated cookies of the browser that started, so a callback from any
// other browser, or with a state it did not start, is refused. The state also
// carries the id of the authorization request the sign-in is for.
type upstreamSignIn struct {
	cfg      Upstream
	name     string
	callback string
	cookies  *httphelper.CookieHandler
	pages    *pages

	mu    sync.Mutex
	party rp.RelyingParty // built on first use; nil until discovery succeeds
}

func newUpstreamSignIn(cfg Upstream, publicURL string, secure bool, p *pages) (*upstreamSignIn, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.Users == nil {
		return nil, errors.New("upstream sign-in needs an issuer, a client id and secret, and a user store")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Issuer
	}
	// Per-process keys: the cookies only have to outlive one round trip to the
	// provider. With several instances behind a load balancer, the callback
	// must reach the instance that started (sticky sessions), or sign-in fails
	// with the "could not be verified" page.
	hashKey, encryptKey := make([]byte, 64), make([]byte, 32)
	if _, err := rand.Read(hashKey); err != nil {
		return nil, err
	}
	if _, err := rand.Read(encryptKey); err != nil {
		return nil, err
	}
	opts := []httphelper.CookieHandlerOpt{
		httphelper.WithPath("/oauth/upstream"),
		httphelper.WithMaxAge(int(upstreamCookieMaxAge / time.Second)),
		// Lax: the callback is a top-level GET navigation from the provider.
		httphelper.WithSameSite(http.SameSiteLaxMode),
	}
	if !secure {
		opts = append(opts, httphelper.WithUnsecure()) // http on loopback only: config refuses other http URLs
	}
	return &upstreamSignIn{cfg: cfg, name: name, callback: publicURL + PathUpstreamCallback,
		cookies: httphelper.NewCookieHandler(hashKey, encryptKey, opts...), pages: p}, nil
}

func (u *upstreamSignIn) routes(r chi.Router) {
	r.Get(PathUpstreamStart, u.start)
	r.Get(PathUpstreamCallback, u.finish)
}

// nonceKey carries the nonce from this browser's cookie to rp's ID token
// verifier, which compares it with the token's nonce claim.
type nonceKey struct{}

func nonceOf(ctx context.Context) string {
	nonce, _ := ctx.Value(nonceKey{}).(string)
	return nonce
}

// relyingParty runs discovery on first use, not at start: an unreachable
// provider then costs only its own button, not the whole server, and a later
// sign-in tries again.
func (u *upstreamSignIn) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.party != nil {
		return u.party, nil
	}
	ctx, cancel := context.WithTimeout(ctx, upstreamDiscoveryMax)
	defer cancel()
	party, err := rp.NewRelyingPartyOIDC(ctx, u.cfg.Issuer, u.cfg.ClientID, u.cfg.ClientSecret, u.callback,
		strings.Fields(upstreamScopes),
		rp.WithPKCE(u.cookies),
		rp.WithHTTPClient(u.cfg.HTTPClient),
		rp.WithVerifierOpts(
			rp.WithNonce(nonceOf),
			rp.WithSupportedSigningAlgorithms(upstreamSigningAlgs...),
			rp.WithIssuedAtOffset(10*time.Second), // clock skew
			rp.WithIssuedAtMaxAge(upstreamCookieMaxAge),
		),
		rp.WithUnauthorizedHandler(u.unverified),
		rp.WithErrorHandler(u.providerError),
	)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", u.cfg.Issuer, err)
	}
	u.party = party
	return party, nil
}

// start: GET /oauth/upstream/start?id=<authorization request> sends the
// browser to the provider; without an id, the sign-in is for the account page.
func (u *upstreamSignIn) start(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id != "" {
		if _, _, ok := u.pages.request(w, r, id); !ok {
			return
		}
	}
	party, ok := u.available(w, r)
	if !ok {
		return
	}
	nonce := randomToken()
	if err := u.cookies.SetCookie(w, upstreamNonceCookie, nonce); err != nil {
		u.unavailable(w, r, err)
		return
	}
	state := randomToken() + "." + id // random part: base64url, never a "."
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	rp.AuthURLHandler(func() string { return state }, party, rp.WithURLParam("nonce", nonce)).ServeHTTP(w, r)
}

// finish: GET /oauth/upstream/callback. rp checks the state against its
// cookie, sends the PKCE verifier, exchanges the code and verifies the ID
// token (signature by the provider's keys, issuer, audience, expiry, and the
// nonce from this browser's cookie) before signedIn runs.
func (u *upstreamSignIn) finish(w http.ResponseWriter, r *http.Request) {
	party, ok := u.available(w, r)
	if !ok {
		return
	}
	nonce, err := u.cookies.CheckCookie(r, upstreamNonceCookie)
	if err != nil || nonce == "" {
		u.unverified(w, r, fmt.Sprintf("no nonce cookie: %v", err), r.FormValue("state"))
		return
	}
	u.cookies.DeleteCookie(w, upstreamNonceCookie)
	ctx := context.WithValue(r.Context(), nonceKey{}, nonce)
	rp.CodeExchangeHandler(u.signedIn, party).ServeHTTP(w, r.WithContext(ctx))
}

func (u *upstreamSignIn) signedIn(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], state string, party rp.RelyingParty) {
	_, id, found := strings.Cut(state, ".")
	if !found {
		u.unverified(w, r, "state carries no authorization request", state)
		return
	}
	if id != "" { // none: signing in to the account page
		if _, _, ok := u.pages.request(w, r, id); !ok {
			return
		}
	}
	claims := tokens.IDTokenClaims
	who := command.SignInUpstreamUser{Issuer: claims.Issuer, Subject: claims.Subject, Email: claims.Email, EmailVerified: bool(claims.EmailVerified)}
	if (who.Email == "" || !who.EmailVerified) && party.UserinfoEndpoint() != "" {
		// Many providers put the email, or whether it is verified, only in
		// userinfo; rp checks that its subject is the ID token's.
		info, err := rp.Userinfo[*oidc.UserInfo](r.Context(), tokens.AccessToken, tokens.Type(), claims.Subject, party)
		switch {
		case err != nil && who.Email == "":
			u.unavailable(w, r, fmt.Errorf("userinfo: %w", err))
			return
		case err != nil: // the ID token's claims will do; the user may exist already
			if u.pages.logger != nil {
				u.pages.logger.WarnContext(r.Context(), "upstream userinfo failed", "error", err)
			}
		case info.Email != "":
			who.Email, who.EmailVerified = info.Email, bool(info.EmailVerified)
		}
	}

	userID, err := u.cfg.Users.Handle(r.Context(), who)
	var e *errs.Error
	errors.As(err, &e)
	switch {
	case err == nil:
	case errs.KindOf(err) == errs.KindConflict:
		u.pages.render(w, http.StatusConflict, "error.html", pageData{Title: "This email already has an account", RequestID: id,
			Error: fmt.Sprintf("An account for %s already exists here and is not linked to %s. Sign in with your email and password instead.", who.Email, u.name)})
		return
	case errs.KindOf(err) == errs.KindForbidden:
		u.pages.fail(w, http.StatusForbidden, "This account is disabled", "Your account is disabled.")
		return
	case e != nil && e.Slug == "upstream-email-missing":
		u.pages.fail(w, http.StatusBadRequest, "Your email address is needed",
			fmt.Sprintf("%s did not share your email address, which is needed to create your account.", u.name))
		return
	case e != nil && e.Slug == "upstream-email-unverified":
		u.pages.fail(w, http.StatusBadRequest, "Your email address is not verified",
			fmt.Sprintf("%s has not verified your email address. Verify it there, then connect again.", u.name))
		return
	case errs.KindOf(err) == errs.KindInvalid:
		u.pages.fail(w, http.StatusBadRequest, "Sign-in failed",
			fmt.Sprintf("%s sent an account this service cannot use (%s).", u.name, e.Detail))
		return
	default:
		u.unavailable(w, r, err)
		return
	}
	if err := u.pages.startSession(w, r, userID); err != nil {
		u.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, afterSignIn(id), http.StatusSeeOther)
}

func (u *upstreamSignIn) available(w http.ResponseWriter, r *http.Request) (rp.RelyingParty, bool) {
	party, err := u.relyingParty(r.Context())
	if err != nil {
		u.unavailable(w, r, err)
		return nil, false
	}
	return party, true
}

func (u *upstreamSignIn) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if u.pages.logger != nil {
		u.pages.logger.ErrorContext(r.Context(), "upstream sign-in unavailable", "issuer", u.cfg.Issuer, "error", err)
	}
	u.pages.fail(w, http.StatusServiceUnavailable, "Sign-in with "+u.name+" is unavailable",
		"Please try again later, or sign in with your email and password.")
}

// unverified answers a callback that cannot be trusted: state missing,
// tampered or from another browser, no PKCE verifier, or a code exchange or
// ID token that failed verification. The reason goes to the log only.
func (u *upstreamSignIn) unverified(w http.ResponseWriter, r *http.Request, reason, _ string) {
	if u.pages.logger != nil {
		u.pages.logger.WarnContext(r.Context(), "upstream sign-in refused", "reason", reason)
	}
	u.pages.fail(w, http.StatusBadRequest, "Sign-in with "+u.name+" could not be completed",
		"The answer from "+u.name+" could not be verified for this browser, or it came too late. Please start again.")
}

// providerError answers a callback that carries an error from the provider,
// e.g. access_denied when the user cancelled there.
func (u *upstreamSignIn) providerError(w http.ResponseWriter, r *http.Request, errorType, description, _ string) {
	if u.pages.logger != nil {
		u.pages.logger.InfoContext(r.Context(), "upstream provider refused sign-in", "error", errorType, "description", description)
	}
	msg := u.name + " did not sign you in."
	if errorType == string(oidc.AccessDenied) {
		msg = "Sign-in at " + u.name + " was cancelled."
	}
	u.pages.fail(w, http.StatusBadRequest, "Sign-in with "+u.name+" did not complete", msg)
}
