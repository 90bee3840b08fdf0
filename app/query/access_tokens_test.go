package query_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

const testIssuer = "https://memory.example"

// oneKey is a jwt.KeySource holding a single public key.
type oneKey struct{ jwk jose.JSONWebKey }

func (k oneKey) VerificationKey(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	if kid != k.jwk.KeyID {
		return nil, jwt.ErrKeyNotFound
	}
	return &k.jwk, nil
}

// fakeRevocations revokes the jtis it holds, and remembers what it was asked.
type fakeRevocations struct {
	mu      sync.Mutex
	revoked map[string]bool
	err     error
	asked   [][2]string // grant id, jti
}

func (f *fakeRevocations) AccessTokenRevoked(_ context.Context, grantID, jti string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, [2]string{grantID, jti})
	return f.revoked[jti], f.err
}

// signedToken signs a token of grant for subject, issued to client "app-1".
func signedToken(t *testing.T, key jwt.Key, grant, subject string) (string, jwt.AccessClaims) {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	c := jwt.AccessClaims{Issuer: testIssuer, Subject: subject, Audience: []string{testIssuer}, ClientID: "app-1",
		Scope: []string{"memories:read"}, JTI: oauth.NewAccessTokenID(grant), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	token, err := jwt.Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return token, c
}

func newTokenVerifier(t *testing.T) (*query.TokenVerifier, jwt.Key, *fakeRevocations) {
	t.Helper()
	key, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	rev := &fakeRevocations{revoked: map[string]bool{}}
	sig := &jwt.Verifier{Issuer: testIssuer, Audience: testIssuer, Keys: oneKey{key.PublicJWK()}}
	return query.NewTokenVerifier(sig, rev), key, rev
}

func TestTokenVerifier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a live token gives its claims, its grant looked up by the jti", func(t *testing.T) {
		t.Parallel()
		v, key, rev := newTokenVerifier(t)
		token, want := signedToken(t, key, "grant-1", "user-1")
		got, err := v.VerifyAccessToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.JTI != want.JTI || got.Subject != "user-1" || got.ClientID != "app-1" || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("claims = %+v, want %+v", got, want)
		}
		if len(rev.asked) != 1 || rev.asked[0] != [2]string{"grant-1", want.JTI} {
			t.Errorf("revocations asked %v, want grant-1 and the token's jti once", rev.asked)
		}
	})

	t.Run("a revoked token is unauthorized", func(t *testing.T) {
		t.Parallel()
		v, key, rev := newTokenVerifier(t)
		token, c := signedToken(t, key, "grant-1", "user-1")
		rev.revoked[c.JTI] = true
		_, err := v.VerifyAccessToken(ctx, token)
		assertRefused(t, err, "the access token was revoked")
	})

	t.Run("a token of another key is unauthorized and never looked up", func(t *testing.T) {
		t.Parallel()
		v, _, rev := newTokenVerifier(t)
		other, err := jwt.GenerateKey(jwt.ES256)
		if err != nil {
			t.Fatal(err)
		}
		token, _ := signedToken(t, other, "grant-1", "user-1")
		_, err = v.VerifyAccessToken(ctx, token)
		assertRefused(t, err, "the access token is invalid: "+jwt.ReasonUnknownKID)
		if len(rev.asked) != 0 {
			t.Errorf("revocations asked %v for a token that failed its signature check", rev.asked)
		}
	})

	t.Run("a failing revocation store is no refusal", func(t *testing.T) {
		t.Parallel()
		v, key, rev := newTokenVerifier(t)
		rev.err = errors.New("db down")
		token, _ := signedToken(t, key, "grant-1", "user-1")
		_, err := v.VerifyAccessToken(ctx, token)
		if !errors.Is(err, rev.err) || errs.KindOf(err) == errs.KindUnauthorized {
			t.Errorf("err = %v, want the store's error, not a refusal", err)
		}
	})
}

func assertRefused(t *testing.T, err error, detail string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindUnauthorized || e.Slug != "invalid-token" || e.Detail != detail {
		t.Errorf("err = %v, want unauthorized invalid-token %q", err, detail)
	}
}

// fakeApps finds applications by id, for access tokens.
type fakeApps struct {
	application.Repository // only Get is used
	apps                   map[string]*application.Application
}

func (f fakeApps) Get(_ context.Context, id string) (*application.Application, error) {
	if a, ok := f.apps[id]; ok {
		return a, nil
	}
	return nil, errs.NotFound("app-not-found", "no such application")
}

// Authenticate takes what the shared verifier says: the end user from the
// subject, none when the application acts for itself, and its refusals.
func TestAuthenticate_accessToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v, key, rev := newTokenVerifier(t)
	app, err := application.New("app-1", "GPT", []byte(strings.Repeat("k", 32)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := query.NewAuthenticateHandler(fakeApps{apps: map[string]*application.Application{"app-1": app}}, v, nil, nil)

	userToken, _ := signedToken(t, key, "grant-1", "user-1")
	caller, err := h.Handle(ctx, query.Authenticate{Credential: userToken})
	if err != nil || caller.AppID != "app-1" || caller.EndUser != "user-1" || caller.Scopes != "memories:read" {
		t.Errorf("user token: caller %+v, %v; want app-1 for user-1 with memories:read", caller, err)
	}
	appToken, _ := signedToken(t, key, "grant-2", "app-1")
	if caller, err := h.Handle(ctx, query.Authenticate{Credential: appToken}); err != nil || caller.EndUser != "" {
		t.Errorf("client_credentials token: caller %+v, %v; want the application itself", caller, err)
	}
	revoked, c := signedToken(t, key, "grant-3", "user-1")
	rev.mu.Lock()
	rev.revoked[c.JTI] = true
	rev.mu.Unlock()
	if _, err := h.Handle(ctx, query.Authenticate{Credential: revoked}); errs.KindOf(err) != errs.KindUnauthorized {
		t.Errorf("revoked token: err = %v, want unauthorized", err)
	}

	// A token is good for the audience asked for, and for it only.
	const mcp = testIssuer + "/mcp/app-1"
	if _, err := h.Handle(ctx, query.Authenticate{Credential: userToken, Audience: mcp}); errs.KindOf(err) != errs.KindUnauthorized {
		t.Errorf("the API's token for the MCP endpoint: err = %v, want unauthorized", err)
	}
	now := time.Now().Truncate(time.Second)
	mcpToken, err := jwt.Sign(key, jwt.AccessClaims{Issuer: testIssuer, Subject: "user-1", Audience: []string{mcp}, ClientID: "app-1",
		Scope: []string{"memories:read"}, JTI: oauth.NewAccessTokenID("grant-4"), IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if caller, err := h.Handle(ctx, query.Authenticate{Credential: mcpToken, Audience: mcp}); err != nil || caller.EndUser != "user-1" {
		t.Errorf("the MCP token for its endpoint: caller %+v, %v; want app-1 for user-1", caller, err)
	}
	if _, err := h.Handle(ctx, query.Authenticate{Credential: mcpToken}); errs.KindOf(err) != errs.KindUnauthorized {
		t.Errorf("the MCP token for the API: err = %v, want unauthorized", err)
	}
}
