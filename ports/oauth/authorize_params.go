package oauth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// maxAuthorizeBody bounds a POSTed authorization request; a GET is bounded
// by the server's header limit.
const maxAuthorizeBody = 64 << 10

// paramLimits caps each authorization request parameter, in bytes once
// decoded: an authorization request is stored until it expires, so nothing
// in it may be large. Parameters not listed are parsed and dropped, and get
// otherParamLimit.
var paramLimits = map[string]int{
	"client_id":             512, // a metadata document's URL, at most
	"redirect_uri":          2048,
	"state":                 1024,
	"response_type":         64,
	"response_mode":         32,
	"scope":                 1024,
	"nonce":                 1024,
	"code_challenge":        128,
	"code_challenge_method": 16,
}

const (
	otherParamLimit = 512
	maxParamName    = 64
)

func limitOf(name string) int {
	if n, ok := paramLimits[name]; ok {
		return n
	}
	return otherParamLimit
}

// unredirectable parameters are checked before the client is looked up, and
// their excess is shown to the user rather than sent to the client (RFC 6749
// 4.1.2.1): an error goes to a redirect URI only once it is verified, with
// the state echoed unchanged, in the shape the response type and mode ask for.
// An excess of any other parameter is redirected to the client as
// invalid_request once the redirect URI is verified.
var unredirectable = []string{"client_id", "redirect_uri", "state", "response_type", "response_mode"}

// checkParams returns an invalid_request naming the first parameter of names
// (all of form when names is nil) that is too long.
func checkParams(form url.Values, names []string) error {
	if names == nil {
		for name := range form {
			if !slices.Contains(unredirectable, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
	}
	for _, name := range names {
		if len(name) > maxParamName {
			return oidc.ErrInvalidRequest().WithDescription("a parameter name is longer than %d bytes", maxParamName)
		}
		for _, v := range form[name] {
			if limit := limitOf(name); len(v) > limit {
				return oidc.ErrInvalidRequest().WithDescription("%s is longer than %d bytes", name, limit)
			}
		}
	}
	return nil
}

// VerifyAuthRequest refuses oversized unredirectable parameters before the
// client is even looked up; zitadel renders the error (400) to the user. A
// client that registered itself is then admitted to the application its
// resource names, or refused, also rendered: which redirect URIs it may use
// depends on that application, so a refusal cannot be sent to one.
func (s *server) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	if err := checkParams(r.Form, unredirectable); err != nil {
		return nil, err
	}
	cr, err := s.LegacyServer.VerifyAuthRequest(ctx, r)
	if err != nil || !oauth.IsRegisteredClientID(cr.Client.GetID()) {
		return cr, err
	}
	return cr, s.admitRegisteredClient(ctx, cr)
}

// admitRegisteredClient lets a client that registered itself ask for an
// application's MCP endpoint (it may ask for nothing else), with a redirect
// URI it registered and the application's policy allows, unless the
// application's operator revoked it; the application then lists it.
func (s *server) admitRegisteredClient(ctx context.Context, cr *op.ClientRequest[oidc.AuthRequest]) error {
	if err := op.ValidateAuthReqRedirectURI(cr.Client, cr.Data.RedirectURI, cr.Data.ResponseType); err != nil {
		return err
	}
	res, err := resourceParam(cr.Form)
	if err != nil {
		return err
	}
	if res == "" {
		return oidc.ErrInvalidTarget().WithDescription("a client that registered itself must name the MCP endpoint it is for as resource (RFC 8707)")
	}
	app, err := s.resourceApp(ctx, cr.Client.GetID(), res)
	if err != nil {
		return err
	}
	if !app.AllowsMCPRedirect(cr.Data.RedirectURI) {
		return oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is outside the registration policy of this application; " +
			"its operator can allow the host with apps set-mcp --redirect-host")
	}
	if _, err := s.storage.store.UseClient(ctx, app.ID(), cr.Client.GetID(), s.tokens.now()); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// Authorize refuses the other oversized parameters, and a resource this
// client may not have, before anything is stored; zitadel redirects the error
// to the verified redirect URI. A request for a resource must use PKCE S256:
// such a client may be one a secret cannot be kept from.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	if err := checkParams(r.Form, nil); err != nil {
		return nil, err
	}
	res, err := resourceParam(r.Form)
	if err != nil {
		return nil, err
	}
	if res != "" {
		app, err := s.resourceApp(ctx, r.Client.GetID(), res)
		if err != nil {
			return nil, err
		}
		if r.Data.CodeChallenge == "" || r.Data.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
			return nil, oidc.ErrInvalidRequest().WithDescription("a request for a resource must use PKCE with S256")
		}
		ctx = withResource(ctx, res, app.ID())
	}
	return s.LegacyServer.Authorize(ctx, r)
}

// boundAuthorizeBody reads a POSTed authorization request up to
// maxAuthorizeBody; a larger one gets 400, naming the parameter that did not
// fit when it can tell.
func boundAuthorizeBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAuthorizeBody+1))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the authorization request could not be read")
		return false
	}
	if len(body) > maxAuthorizeBody {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", oversizedBody(body[:maxAuthorizeBody]))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// oversizedBody describes a body cut at maxAuthorizeBody: the parameter being
// read there is named when it is certainly too long (each decoded byte takes
// at most three encoded ones).
func oversizedBody(prefix []byte) string {
	last := prefix[bytes.LastIndexByte(prefix, '&')+1:]
	if name, value, ok := bytes.Cut(last, []byte("=")); ok {
		if n, err := url.QueryUnescape(string(name)); err == nil && len(n) <= maxParamName && len(value) > 3*limitOf(n) {
			return fmt.Sprintf("%s is longer than %d bytes", n, limitOf(n))
		}
	}
	return fmt.Sprintf("the authorization request is larger than %d KiB", maxAuthorizeBody>>10)
}
