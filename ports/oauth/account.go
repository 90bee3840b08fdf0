package oauth

import (
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// PathAccount is the page where a signed-in end user sees the GPTs they have
// connected and disconnects any of them.
const PathAccount = "/oauth/account"

// PathAccountExport downloads everything the signed-in user stored.
const PathAccountExport = "/oauth/account/export"

// connection is one GPT as the account page shows it: every live grant of the
// user to that application, merged.
type connection struct {
	ClientID, AppName, Since string
	Scopes                   []string
}

// showAccount lists the signed-in user's connected GPTs; a browser that is not
// signed in gets the sign-in form, which comes back here.
func (p *pages) showAccount(w http.ResponseWriter, r *http.Request) {
	s, signedIn := p.session(r)
	if !signedIn {
		p.render(w, http.StatusOK, "login.html", pageData{Title: "Sign in", CSRF: p.csrf(w, r)})
		return
	}
	p.account(w, r, s, http.StatusOK, "")
}

// submitAccount disconnects one GPT: client_id names it, and only the signed-in
// user's own grants to it are revoked, whatever the form says.
func (p *pages) submitAccount(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !p.checkCSRF(r) {
		p.fail(w, http.StatusForbidden, "Your form expired", "Please reload your connected GPTs and try again.")
		return
	}
	s, signedIn := p.session(r)
	if !signedIn {
		http.Redirect(w, r, PathAccount, http.StatusSeeOther)
		return
	}
	conns, ok := p.connections(w, r, s)
	if !ok {
		return
	}
	clientID := r.PostFormValue("client_id")
	i := slices.IndexFunc(conns, func(c connection) bool { return c.ClientID == clientID })
	if i < 0 {
		p.account(w, r, s, http.StatusNotFound, "That GPT is not connected to your account.")
		return
	}
	if err := p.store.RevokeGrantsOfClient(r.Context(), s.UserID, clientID, p.now()); err != nil {
		p.unavailable(w, r, err)
		return
	}
	p.account(w, r, s, http.StatusOK, conns[i].AppName+" is disconnected: it can no longer use your memory.")
}

// account renders the page of s's connections with a notice.
func (p *pages) account(w http.ResponseWriter, r *http.Request, s oauth.Session, status int, notice string) {
	conns, ok := p.connections(w, r, s)
	if !ok {
		return
	}
	p.render(w, status, "account.html", pageData{Title: "Your connected GPTs", CSRF: p.csrf(w, r), Email: s.Email,
		Connections: conns, Notice: notice})
}

// connections merges s's live grants by application, oldest first.
func (p *pages) connections(w http.ResponseWriter, r *http.Request, s oauth.Session) ([]connection, bool) {
	grants, err := p.store.LiveGrantsOfSubject(r.Context(), s.UserID, p.now())
	if err != nil {
		p.unavailable(w, r, err)
		return nil, false
	}
	var out []connection
	granted := map[string]oauth.Scopes{}
	for _, g := range grants {
		if _, seen := granted[g.ClientID]; !seen {
			out = append(out, connection{ClientID: g.ClientID, AppName: p.connectionName(r, g),
				Since: g.CreatedAt.Format(time.DateOnly)})
		}
		granted[g.ClientID] = append(granted[g.ClientID], g.Scopes...)
	}
	for i := range out {
		for _, sc := range oauth.Supported { // in a fixed order, once each
			if granted[out[i].ClientID].Has(sc) {
				out[i].Scopes = append(out[i].Scopes, scopeText[sc])
			}
		}
	}
	return out, true
}

// connectionName names a GPT by its application, and a client that
// registered itself by the name it gave (unverified) and the application it
// reaches: one such client reaching several applications is disconnected
// from all of them at once.
func (p *pages) connectionName(r *http.Request, g *oauth.Grant) string {
	name := "A GPT that no longer exists"
	if app, err := p.apps.Get(r.Context(), g.AppID); err == nil {
		name = app.Name()
	}
	if !oauth.IsRegisteredClientID(g.ClientID) {
		return name
	}
	client := "An app"
	if c, err := p.store.Client(r.Context(), g.ClientID); err == nil {
		client = c.DisplayName()
	}
	return client + " (unverified name), in " + name
}

func (p *pages) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if p.logger != nil {
		p.logger.ErrorContext(r.Context(), "account page", "error", err)
	}
	p.fail(w, http.StatusServiceUnavailable, "Something went wrong", "Please try again later.")
}

// exportAccount downloads every memory the signed-in user stored, in every
// application, with its history, as one JSON document: their own copy, to take
// elsewhere. A link (GET) is enough: another site can start the download but
// not read it. Without a session it goes to the account page, to sign in.
func (p *pages) exportAccount(w http.ResponseWriter, r *http.Request) {
	s, signedIn := p.session(r)
	if !signedIn || p.export == nil {
		http.Redirect(w, r, PathAccount, http.StatusSeeOther)
		return
	}
	out := &countingWriter{w: w}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="my-memories.json"`)
	w.Header().Set("Cache-Control", "no-store")
	err := p.export(r.Context(), out, s.UserID, s.Email)
	if err != nil && out.n == 0 {
		w.Header().Del("Content-Disposition")
		p.unavailable(w, r, err)
	}
}

// countingWriter tells whether anything was written yet.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	return n, err
}
