package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

// storage is zitadel/oidc's op.Storage over our stores. Token issuance is not
// here: the server overrides every grant (server.go), so the token methods of
// op.Storage are never reached and refuse.
type storage struct {
	apps  Apps
	store Store
	keys  Keys
	// documents fetches clients' metadata documents; nil: none accepted.
	documents MetadataDocuments
	loginURL  func(id string) string
	health    func(context.Context) error
	now       func() time.Time
}

var (
	_ op.Storage                  = (*storage)(nil)
	_ op.ClientCredentialsStorage = (*storage)(nil)
)

var errNotUsed = errors.New("oauth: token issuance is handled by the server, not the storage")

// CreateAuthRequest stores the request once zitadel has checked client,
// redirect URI and response type. PKCE must be S256 when present, and at least
// one supported scope must remain.
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if err := oauth.ValidateChallenge(r.CodeChallenge, string(r.CodeChallengeMethod)); err != nil {
		return nil, toOIDC(err)
	}
	scopes := oauth.Restrict(r.Scopes)
	if len(scopes) == 0 {
		return nil, oidc.ErrInvalidScope().WithDescription("supported scopes: memories:read memories:write")
	}
	now := s.now()
	res, appID := resourceOf(ctx)
	if appID == "" {
		appID = r.ClientID // the API of the client's own application
	}
	req := &oauth.AuthRequest{
		ID: uuid.Must(uuid.NewV7()).String(), ClientID: r.ClientID, AppID: appID, RedirectURI: r.RedirectURI, Scopes: scopes,
		State: r.State, Nonce: r.Nonce, ResponseType: string(r.ResponseType), ResponseMode: string(r.ResponseMode),
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod), Resource: res,
		CreatedAt: now, ExpiresAt: now.Add(oauth.AuthRequestLifetime),
	}
	if err := s.store.SaveAuthRequest(ctx, req); err != nil {
		return nil, err
	}
	return authRequest{req}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.store.AuthRequest(ctx, id, s.now())
	if err != nil {
		return nil, notFound(err, "the authorization request is unknown or expired")
	}
	return authRequest{r}, nil
}

func (s *storage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotUsed
}

// SaveAuthCode keeps only a hash of the code.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.store.SaveCode(ctx, id, oauth.HashSecret(code), s.now())
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.store.DeleteAuthRequest(ctx, id)
}

func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errNotUsed
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotUsed
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotUsed
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithParent(errNotUsed)
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// SigningKey is only used for ID tokens, which this server does not issue, and
// is given for completeness.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.keys.Current(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256, jose.RS256}, nil
}

// KeySet feeds the JWKS endpoint: the current key and those still verifying.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	jwks, err := s.keys.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(jwks))
	for _, k := range jwks {
		out = append(out, publicKey{k})
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if oauth.IsRegisteredClientID(clientID) {
		c, err := s.registeredClient(ctx, clientID)
		if err != nil {
			return nil, err
		}
		return registeredClient{c: c, loginURL: s.loginURL}, nil
	}
	app, err := s.apps.Get(ctx, clientID)
	if err != nil {
		return nil, notFound(err, "unknown client")
	}
	if app.Authorize() != nil {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client is disabled")
	}
	return client{app: app, loginURL: s.loginURL}, nil
}

// AuthorizeClientIDSecret compares secret hashes in constant time. Secrets are
// high-entropy, so the hash is SHA-256: no CPU sink for an attacker to feed.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	if oauth.IsRegisteredClientID(clientID) {
		return s.authorizeRegisteredSecret(ctx, clientID, secret)
	}
	app, err := s.apps.Get(ctx, clientID)
	if err != nil {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	stored := app.OAuthClient().SecretHash
	if len(stored) == 0 || subtle.ConstantTimeCompare(stored, application.HashClientSecret(secret)) != 1 {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	if app.Authorize() != nil {
		return oidc.ErrInvalidClient().WithDescription("the client is disabled")
	}
	return nil
}

func (s *storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, clientID, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, clientID)
}

func (s *storage) ClientCredentialsTokenRequest(context.Context, string, []string) (op.TokenRequest, error) {
	return nil, errNotUsed
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, _, subject, _ string) error {
	info.Subject = subject
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotUsed
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidRequest().WithDescription("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrInvalidRequest().WithDescription("JWT profile grants are not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.health(ctx) }

// notFound turns our not-found errors into zitadel's, which it maps to the
// right protocol error instead of a server error.
func notFound(err error, description string) error {
	if errors.Is(err, oauth.ErrNotFound) || errs.KindOf(err) == errs.KindNotFound {
		return oidc.ErrInvalidRequest().WithDescription("%s", description)
	}
	return err
}

// toOIDC converts a domain protocol error to zitadel's error type.
func toOIDC(err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return err
	}
	switch oe.Code {
	case "invalid_grant":
		return oidc.ErrInvalidGrant().WithDescription("%s", oe.Description)
	case "invalid_scope":
		return oidc.ErrInvalidScope().WithDescription("%s", oe.Description)
	}
	return oidc.ErrInvalidRequest().WithDescription("%s", oe.Description)
}

// signingKey and publicKey adapt our keys to zitadel's interfaces.
type signingKey struct{ k jwt.Key }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k signingKey) Key() any   { return k.k.PrivateKey() }
func (k signingKey) ID() string { return k.k.KID }

type publicKey struct{ k jose.JSONWebKey }

func (k publicKey) ID() string                         { return k.k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Key }
