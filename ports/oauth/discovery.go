package oauth

import (
	"context"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Discovery advertises what this server does, and nothing more. zitadel's
// document describes its op package in general: it hard-codes the implicit
// and id_token response types, the implicit and jwt-bearer grants and "none"
// client authentication, lists private_key_jwt algorithms and ID token claims
// whatever the configuration, and names the device authorization endpoint.
// Ours takes the response types, grants and client authentication methods from
// the declarations zitadel enforces on every client (client.go), the
// endpoints from those routed, and the rest from the provider's configuration.
// No ID token is ever issued, so nothing is said about ID tokens.
func (s *server) Discovery(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	issuer := op.IssuerFromContext(ctx)
	ep := s.Endpoints()
	provider := s.Provider()
	d := &oidc.DiscoveryConfiguration{
		Issuer:                issuer,
		AuthorizationEndpoint: ep.Authorization.Absolute(issuer),
		TokenEndpoint:         ep.Token.Absolute(issuer),
		IntrospectionEndpoint: ep.Introspection.Absolute(issuer),
		UserinfoEndpoint:      ep.Userinfo.Absolute(issuer),
		RevocationEndpoint:    ep.Revocation.Absolute(issuer),
		EndSessionEndpoint:    issuer + PathLogout, // served by the pages (logout.go)
		RegistrationEndpoint:  issuer + PathRegister,
		JwksURI:               ep.JwksURI.Absolute(issuer),
		ScopesSupported:       op.Scopes(provider),
		ResponseTypesSupported: func() (out []string) {
			for _, rt := range responseTypes {
				out = append(out, string(rt))
			}
			return out
		}(),
		// The consent page sends a denial as a query (pages.go), whatever the
		// request asked for.
		ResponseModesSupported: []string{string(oidc.ResponseModeQuery)},
		GrantTypesSupported:    grantTypes,
		SubjectTypesSupported:  []string{"public"},
		// "none": clients that registered themselves may be public (PKCE only).
		TokenEndpointAuthMethodsSupported:         append(slices.Clone(authMethods), oidc.AuthMethodNone),
		RevocationEndpointAuthMethodsSupported:    authMethods,
		IntrospectionEndpointAuthMethodsSupported: authMethods,
		CodeChallengeMethodsSupported:             op.CodeChallengeMethods(provider),
		UILocalesSupported:                        provider.SupportedUILocales(),
	}
	// zitadel's document has no field for RFC 9207 (withIssuerParam makes it
	// true), nor for Client ID Metadata Documents (the MCP specification's
	// name for the flag).
	return op.NewResponse(struct {
		*oidc.DiscoveryConfiguration
		IssParameter     bool `json:"authorization_response_iss_parameter_supported"`
		MetadataDocument bool `json:"client_id_metadata_document_supported"`
	}{d, true, s.storage.documents != nil}), nil
}

// JWTProfile refuses the jwt-bearer grant as unsupported; zitadel's would
// look for client keys this server does not keep and answer invalid_request.
func (s *server) JWTProfile(context.Context, *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("supported grant types: %v", grantTypes)
}
