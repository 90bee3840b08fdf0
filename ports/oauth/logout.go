package oauth

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// logoutRoutes serve the end_session_endpoint of discovery. GET (and a POST
// from a relying party, which carries no CSRF token of ours) asks the
// signed-in user to confirm; the confirmation, with its CSRF token, ends the
// session in Postgres and clears the cookie. No ID tokens are issued, so no
// id_token_hint can vouch for a post_logout_redirect_uri: the page says the
// browser is signed out and stays there.
func (p *pages) logoutRoutes(r chi.Router) {
	r.Get(PathLogout, p.showLogout)
	r.Post(PathLogout, p.submitLogout)
}

func (p *pages) showLogout(w http.ResponseWriter, r *http.Request) {
	s, signedIn := p.session(r)
	if !signedIn {
		p.render(w, http.StatusOK, "logout.html", pageData{Title: "Signed out"})
		return
	}
	p.render(w, http.StatusOK, "logout.html", pageData{Title: "Sign out", Email: s.Email, CSRF: p.csrf(w, r)})
}

func (p *pages) submitLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if r.PostFormValue("csrf") == "" {
		p.showLogout(w, r)
		return
	}
	if !p.checkCSRF(r) {
		p.fail(w, http.StatusForbidden, "Your sign-out form expired", "Please go back and try again.")
		return
	}
	if c, err := r.Cookie(p.sessionCookie()); err == nil {
		if err := p.sessions.EndSession(r.Context(), c.Value); err != nil {
			p.fail(w, http.StatusServiceUnavailable, "Something went wrong", "Please try again later.")
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: p.sessionCookie(), Value: "", Path: "/", HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	p.render(w, http.StatusOK, "logout.html", pageData{Title: "Signed out"})
}
