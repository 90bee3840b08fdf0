package oauth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// PathRegister is the Dynamic Client Registration endpoint (RFC 7591).
const PathRegister = "/oauth/register"

// maxRegistrationBody bounds a registration request: ten redirect URIs and a
// name fit many times over.
const maxRegistrationBody = 16 << 10

// register answers an open registration (RFC 7591 3): anyone may register,
// as ChatGPT's and Claude's connectors do, because a registration grants
// nothing. A registered client reaches an application's MCP endpoint only
// through a user's consent, with a redirect URI the application's policy
// allows, and is listed to the application's operator, who can revoke it.
// Each address spends BudgetRegister. There is no management endpoint (RFC
// 7592): a client that changes registers again.
func (s *server) register(w http.ResponseWriter, r *http.Request) {
	if wait := s.limits.wait(r.Context(), BudgetRegister, clientAddress(r)); wait > 0 {
		writeTooMany(w, wait, "temporarily_unavailable", "too many registrations from this address; retry later")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "the registration must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "the registration is larger than 16 KiB or could not be read")
		return
	}
	m, err := oauth.ParseRegistration(body)
	if err != nil {
		var oe *oauth.Error
		errors.As(err, &oe)
		writeOAuthError(w, http.StatusBadRequest, oe.Code, oe.Description)
		return
	}
	var secret string
	var hash []byte
	if m.TokenEndpointAuthMethod != oauth.AuthNone {
		secret, hash = application.NewClientSecret()
	}
	c := oauth.ClientFrom(oauth.RegisteredClientPrefix+randomToken(), oauth.KindRegistered, m, hash, s.tokens.now())
	if err := s.storage.store.RegisterClient(r.Context(), c); err != nil {
		if s.logger != nil {
			s.logger.ErrorContext(r.Context(), "client registration", "error", err)
		}
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the registration could not be stored; retry later")
		return
	}
	out, _ := json.Marshal(responseOf(c, secret))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out)
}
