package oauth

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// authRequest presents a stored authorization request to zitadel/oidc.
type authRequest struct{ r *oauth.AuthRequest }

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string          { return a.r.ID }
func (a authRequest) GetACR() string         { return "" }
func (a authRequest) GetAMR() []string       { return []string{"pwd"} }
func (a authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a authRequest) GetClientID() string    { return a.r.ClientID }
func (a authRequest) GetNonce() string       { return a.r.Nonce }
func (a authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a authRequest) GetScopes() []string    { return a.r.Scopes }
func (a authRequest) GetState() string       { return a.r.State }
func (a authRequest) GetSubject() string     { return a.r.Subject }
func (a authRequest) Done() bool             { return a.r.Done }
func (a authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.ResponseType)
}
func (a authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
