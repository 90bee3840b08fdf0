package oauth

import (
	"net/http"
	"net/url"
)

// withIssuerParam adds the issuer to every authorization response (RFC 9207):
// a redirect to a client's redirect URI carrying a code or an error, whether
// zitadel wrote it (refused requests, the code response) or the pages did (a
// denied consent). A client that talks to several authorization servers (an
// MCP client does) can then tell which one answered and refuse a mix-up.
// Redirects within this server (to the sign-in page) are left alone.
func withIssuerParam(issuer string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issuerParamWriter{ResponseWriter: w, issuer: issuer}, r)
	})
}

type issuerParamWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issuerParamWriter) WriteHeader(code int) {
	if code >= 300 && code < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			w.Header().Set("Location", addIssuer(loc, w.issuer))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *issuerParamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addIssuer adds iss to an authorization response's location: one that
// carries a code or an error. Anything else is returned unchanged.
func addIssuer(location, issuer string) string {
	u, err := url.Parse(location)
	if err != nil {
		return location
	}
	q := u.Query()
	if !q.Has("code") && !q.Has("error") {
		return location
	}
	q.Set("iss", issuer)
	u.RawQuery = q.Encode()
	return u.String()
}
