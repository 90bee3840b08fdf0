package jwt_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

const (
	issuer   = "https://memory.example.com"
	resource = "https://memory.example.com"
	leeway   = 30 * time.Second
)

var now = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// Generating RSA 3072 keys is slow under -race: make them once for the package.
var (
	keysOnce     sync.Once
	esKey, rsKey jwt.Key
	keysErr      error
)

func testKeys(t *testing.T) (es, rs jwt.Key) {
	t.Helper()
	keysOnce.Do(func() {
		if esKey, keysErr = jwt.GenerateKey(jwt.ES256); keysErr != nil {
			return
		}
		rsKey, keysErr = jwt.GenerateKey(jwt.RS256)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return esKey, rsKey
}

// memKeys is a KeySource over a map.
type memKeys map[string]jose.JSONWebKey

func (m memKeys) VerificationKey(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	k, ok := m[kid]
	if !ok {
		return nil, fmt.Errorf("kid %q: %w", kid, jwt.ErrKeyNotFound)
	}
	return &k, nil
}

func verifierFor(keys ...jwt.Key) *jwt.Verifier {
	m := memKeys{}
	for _, k := range keys {
		m[k.KID] = k.PublicJWK()
	}
	return &jwt.Verifier{Issuer: issuer, Audience: resource, Keys: m, Now: func() time.Time { return now }, Leeway: leeway}
}

func fullClaims() jwt.AccessClaims {
	return jwt.AccessClaims{
		Issuer:    issuer,
		Subject:   "user-42",
		Audience:  []string{resource},
		ClientID:  "app-1",
		Scope:     []string{"memories:read", "memories:write"},
		JTI:       "jti-1",
		IssuedAt:  now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour),
		AuthTime:  now.Add(-2 * time.Minute),
	}
}

// segments decodes the header and payload of a compact token.
func segments(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	for _, key := range []jwt.Key{es, rs} {
		t.Run(key.Algorithm, func(t *testing.T) {
			t.Parallel()
			want := fullClaims()
			token, err := jwt.Sign(key, want)
			if err != nil {
				t.Fatal(err)
			}
			header, payload := segments(t, token)
			if header["typ"] != "at+jwt" || header["alg"] != key.Algorithm || header["kid"] != key.KID {
				t.Fatalf("header %v", header)
			}
			if payload["scope"] != "memories:read memories:write" || payload["aud"] != resource {
				t.Fatalf("scope and aud on the wire: %v", payload)
			}
			got, err := verifierFor(key).Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("claims\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestSignWithoutAuthTimeAndSeveralAudiences(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	c := fullClaims()
	c.AuthTime = time.Time{}
	c.JTI = ""
	c.Audience = []string{"https://other.example", resource}
	token, err := jwt.Sign(es, c)
	if err != nil {
		t.Fatal(err)
	}
	_, payload := segments(t, token)
	if _, ok := payload["auth_time"]; ok {
		t.Fatalf("auth_time written though unset: %v", payload)
	}
	got, err := verifierFor(es).Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if !got.AuthTime.IsZero() || got.JTI == "" || !reflect.DeepEqual(got.Audience, c.Audience) {
		t.Fatalf("got %+v", got)
	}
}

func TestSignRefusesIncompleteClaims(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	for name, mutate := range map[string]func(*jwt.AccessClaims){
		"no sub":       func(c *jwt.AccessClaims) { c.Subject = "" },
		"no client_id": func(c *jwt.AccessClaims) { c.ClientID = "" },
		"no iss":       func(c *jwt.AccessClaims) { c.Issuer = "" },
		"no aud":       func(c *jwt.AccessClaims) { c.Audience = nil },
		"no exp":       func(c *jwt.AccessClaims) { c.ExpiresAt = time.Time{} },
		"exp <= iat":   func(c *jwt.AccessClaims) { c.ExpiresAt = c.IssuedAt },
		"spaced scope": func(c *jwt.AccessClaims) { c.Scope = []string{"a b"} },
	} {
		c := fullClaims()
		mutate(&c)
		if _, err := jwt.Sign(es, c); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if _, err := jwt.Sign(jwt.Key{KID: "x", Algorithm: jwt.ES256}, fullClaims()); err == nil {
		t.Error("signed with a key that has no private part")
	}
}

func TestGenerateKeyRefusesOtherAlgorithms(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"HS256", "none", "PS256", "ES384", "EdDSA", ""} {
		if _, err := jwt.GenerateKey(alg); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", alg)
		}
	}
	es, rs := testKeys(t)
	if es.PublicJWK().Key.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Error("ES256 key is not P-256")
	}
	if n := rs.PublicJWK().Key.(*rsa.PublicKey).N.BitLen(); n != 3072 {
		t.Errorf("RS256 key has %d bits", n)
	}
	if len(es.KID) != 22 || es.KID == rs.KID { // 16 bytes, base64url without padding
		t.Errorf("kids %q %q", es.KID, rs.KID)
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	for _, key := range []jwt.Key{es, rs} {
		der, err := jwt.MarshalPrivate(key)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.ParsePrivate(key.KID, key.Algorithm, der)
		if err != nil {
			t.Fatal(err)
		}
		token, err := jwt.Sign(parsed, fullClaims())
		if err != nil {
			t.Fatal(err)
		}
		// Verified with the original key's public half: the parsed key is the same key.
		if _, err := verifierFor(key).Verify(context.Background(), token); err != nil {
			t.Fatalf("%s: %v", key.Algorithm, err)
		}
		other := map[string]string{jwt.ES256: jwt.RS256, jwt.RS256: jwt.ES256}[key.Algorithm]
		if _, err := jwt.ParsePrivate(key.KID, other, der); err == nil {
			t.Fatalf("a %s key parsed as %s", key.Algorithm, other)
		}
	}
	if _, err := jwt.ParsePrivate("k", jwt.ES256, []byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestPublicJWKHasNoPrivateMaterial(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	for _, key := range []jwt.Key{es, rs} {
		jwk := key.PublicJWK()
		if !jwk.IsPublic() || jwk.Use != "sig" || jwk.Algorithm != key.Algorithm || jwk.KeyID != key.KID {
			t.Fatalf("%+v", jwk)
		}
		b, err := json.Marshal(jwk)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		_ = json.Unmarshal(b, &fields)
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := fields[private]; ok {
				t.Fatalf("%s JWK has %q: %s", key.Algorithm, private, b)
			}
		}
	}
}

// --- Tokens made by hand ---

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// craft assembles a compact JWS from its parts; sign gets the signing input.
func craft(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	return input + "." + b64(sign([]byte(input)))
}

func es256(t *testing.T, priv crypto.Signer) func([]byte) []byte {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64) // JWS wants r||s, each 32 bytes
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
}

func rs256(t *testing.T, priv crypto.Signer) func([]byte) []byte {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func ps256(t *testing.T, priv crypto.Signer) func([]byte) []byte {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		sig, err := rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, h[:], nil)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func hmacSig(newHash func() hash.Hash, secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(newHash, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func noSignature([]byte) []byte { return nil }

func header(key jwt.Key) map[string]any {
	return map[string]any{"alg": key.Algorithm, "typ": "at+jwt", "kid": key.KID}
}

func claims() map[string]any {
	return map[string]any{
		"iss":       issuer,
		"sub":       "user-42",
		"aud":       resource,
		"exp":       now.Add(time.Hour).Unix(),
		"iat":       now.Add(-time.Minute).Unix(),
		"jti":       "jti-1",
		"client_id": "app-1",
		"scope":     "memories:read",
	}
}

func signerFor(t *testing.T, key jwt.Key) func([]byte) []byte {
	if key.Algorithm == jwt.ES256 {
		return es256(t, key.PrivateKey())
	}
	return rs256(t, key.PrivateKey())
}

// with returns a copy of m with the given changes; a nil value deletes.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func wantReason(t *testing.T, v *jwt.Verifier, token, reason string) {
	t.Helper()
	claims, err := v.Verify(context.Background(), token)
	var invalid *jwt.InvalidTokenError
	if !errors.As(err, &invalid) {
		t.Fatalf("want refusal %q, got claims %+v, err %v", reason, claims, err)
	}
	if invalid.Reason != reason {
		t.Fatalf("want reason %q, got %q (%v)", reason, invalid.Reason, err)
	}
	if !reflect.DeepEqual(claims, jwt.AccessClaims{}) {
		t.Fatalf("refused token still returned claims %+v", claims)
	}
}

// The hand-made tokens below differ from this control in one thing only.
func TestHandMadeControlTokensVerify(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	v := verifierFor(es, rs)
	for _, key := range []jwt.Key{es, rs} {
		if _, err := v.Verify(context.Background(), craft(t, header(key), claims(), signerFor(t, key))); err != nil {
			t.Fatalf("%s: %v", key.Algorithm, err)
		}
	}
}

func TestRefusesNonCompactJWS(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	valid := craft(t, header(es), claims(), signerFor(t, es))
	parts := strings.Split(valid, ".")

	// A correctly signed JWS in JSON serialization is still refused.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: es.PrivateKey(), KeyID: es.KID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims())
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"empty":            "",
		"garbage":          "not a token",
		"two parts":        parts[0] + "." + parts[1],
		"four parts":       valid + ".x",
		"header not b64":   "!!!." + parts[1] + "." + parts[2],
		"header not JSON":  b64([]byte("nope")) + "." + parts[1] + "." + parts[2],
		"padded base64":    parts[0] + "=." + parts[1] + "." + parts[2],
		"JSON serialized":  obj.FullSerialize(),
		"too large":        valid + strings.Repeat("A", 20000),
		"payload not b64":  parts[0] + ".!!!." + parts[2],
		"signature absent": parts[0] + "." + parts[1] + ".",
	} {
		t.Run(name, func(t *testing.T) {
			reason := jwt.ReasonMalformed
			if name == "signature absent" {
				reason = jwt.ReasonBadSignature
			}
			wantReason(t, v, token, reason)
		})
	}
}

func TestRefusesAlgNone(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	for _, alg := range []string{"none", "None", "NONE"} {
		wantReason(t, v, craft(t, with(header(es), "alg", alg), claims(), noSignature), jwt.ReasonAlgNone)
	}
	// Also with a trailing signature copied from a valid token.
	valid := strings.Split(craft(t, header(es), claims(), signerFor(t, es)), ".")
	token := b64JSON(t, with(header(es), "alg", "none")) + "." + valid[1] + "." + valid[2]
	wantReason(t, v, token, jwt.ReasonAlgNone)
}

// The classic key confusion: the attacker signs with HMAC, using the server's
// public key as the shared secret, hoping the verifier feeds the key to HMAC.
func TestRefusesHMACSignedWithThePublicKey(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	v := verifierFor(es, rs)
	for _, key := range []jwt.Key{es, rs} {
		der, err := x509.MarshalPKIXPublicKey(key.PrivateKey().Public())
		if err != nil {
			t.Fatal(err)
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		jwkJSON, _ := json.Marshal(key.PublicJWK())
		for _, secret := range [][]byte{pemBytes, der, jwkJSON} {
			for alg, h := range map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New} {
				token := craft(t, with(header(key), "alg", alg), claims(), hmacSig(h, secret))
				wantReason(t, v, token, jwt.ReasonAlgHMAC)
			}
		}
	}
}

func TestRefusesOtherAlgorithms(t *testing.T) {
	t.Parallel()
	_, rs := testKeys(t)
	v := verifierFor(rs)
	// A genuine PS256 signature by the RS256 key: right key, wrong algorithm.
	wantReason(t, v, craft(t, with(header(rs), "alg", "PS256"), claims(), ps256(t, rs.PrivateKey())), jwt.ReasonAlgUnsupported)
	for _, alg := range []string{"ES384", "ES512", "RS512", "EdDSA", "", "es256"} {
		wantReason(t, v, craft(t, with(header(rs), "alg", alg), claims(), signerFor(t, rs)), jwt.ReasonAlgUnsupported)
	}
	wantReason(t, v, craft(t, with(header(rs), "alg", nil), claims(), signerFor(t, rs)), jwt.ReasonAlgUnsupported)
}

func TestRefusesKeyUsedWithAnotherAlgorithm(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	other, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFor(es, rs)
	// The kid names the RS256 key but the header says ES256.
	wantReason(t, v, craft(t, with(header(rs), "alg", "ES256"), claims(), es256(t, other.PrivateKey())), jwt.ReasonKeyAlgMismatch)

	// A source whose key is not bound to an algorithm is not trusted either.
	unbound := es.PublicJWK()
	unbound.Algorithm = ""
	v.Keys = memKeys{es.KID: unbound}
	wantReason(t, v, craft(t, header(es), claims(), signerFor(t, es)), jwt.ReasonKeyAlgMismatch)

	// Nor one that claims ES256 for an RSA key.
	lying := rs.PublicJWK()
	lying.Algorithm = jwt.ES256
	v.Keys = memKeys{rs.KID: lying}
	wantReason(t, v, craft(t, with(header(rs), "alg", "ES256"), claims(), es256(t, other.PrivateKey())), jwt.ReasonKeyAlgMismatch)
}

func TestRefusesMissingKID(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	wantReason(t, verifierFor(es), craft(t, with(header(es), "kid", nil), claims(), signerFor(t, es)), jwt.ReasonMissingKID)
	wantReason(t, verifierFor(es), craft(t, with(header(es), "kid", ""), claims(), signerFor(t, es)), jwt.ReasonMissingKID)
}

func TestRefusesUnknownKID(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	// Signed by a key the verifier does not have.
	wantReason(t, verifierFor(rs), craft(t, header(es), claims(), signerFor(t, es)), jwt.ReasonUnknownKID)
}

func TestRefusesBadSignature(t *testing.T) {
	t.Parallel()
	es, rs := testKeys(t)
	v := verifierFor(es, rs)
	impostor, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		t.Fatal(err)
	}
	// An unknown key signing under a known kid.
	wantReason(t, v, craft(t, header(es), claims(), es256(t, impostor.PrivateKey())), jwt.ReasonBadSignature)

	// A valid token whose payload was changed after signing.
	for _, key := range []jwt.Key{es, rs} {
		parts := strings.Split(craft(t, header(key), claims(), signerFor(t, key)), ".")
		tampered := parts[0] + "." + b64JSON(t, with(claims(), "sub", "admin")) + "." + parts[2]
		wantReason(t, v, tampered, jwt.ReasonBadSignature)
	}
}

func TestRefusesWrongType(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	for _, typ := range []any{"JWT", "jwt", "at+jwt ", "application/jwt", "", 1} {
		wantReason(t, v, craft(t, with(header(es), "typ", typ), claims(), signerFor(t, es)), jwt.ReasonBadType)
	}
	wantReason(t, v, craft(t, with(header(es), "typ", nil), claims(), signerFor(t, es)), jwt.ReasonBadType)
	// RFC 9068 allows the full media type; media types are case-insensitive.
	for _, typ := range []string{"application/at+jwt", "AT+JWT", "Application/AT+JWT"} {
		if _, err := v.Verify(context.Background(), craft(t, with(header(es), "typ", typ), claims(), signerFor(t, es))); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
}

func TestRefusesWrongIssuer(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	for _, iss := range []any{"https://evil.example", issuer + "/", "", 7} {
		reason := jwt.ReasonWrongIssuer
		if iss == 7 {
			reason = jwt.ReasonMalformedClaims
		}
		wantReason(t, v, craft(t, header(es), with(claims(), "iss", iss), signerFor(t, es)), reason)
	}
	wantReason(t, v, craft(t, header(es), with(claims(), "iss", nil), signerFor(t, es)), jwt.ReasonWrongIssuer)
}

// TestVerifyForAnotherAudience: a resource asks for its own audience; the
// default one is then refused, and the default resource refuses the other's.
func TestVerifyForAnotherAudience(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	const mcp = resource + "/mcp/app-1"
	ctx := context.Background()
	forMCP := craft(t, header(es), with(claims(), "aud", mcp), signerFor(t, es))
	if got, err := v.VerifyFor(ctx, forMCP, mcp); err != nil || !reflect.DeepEqual(got.Audience, []string{mcp}) {
		t.Fatalf("the MCP token for its audience: %v %v", got, err)
	}
	wantReason(t, v, forMCP, jwt.ReasonWrongAudience)
	var invalid *jwt.InvalidTokenError
	forAPI := craft(t, header(es), claims(), signerFor(t, es))
	if _, err := v.VerifyFor(ctx, forAPI, mcp); !errors.As(err, &invalid) || invalid.Reason != jwt.ReasonWrongAudience {
		t.Fatalf("the API's token for the MCP audience: %v", err)
	}
	if _, err := v.VerifyFor(ctx, forAPI, ""); err != nil {
		t.Fatalf("an empty audience is the default: %v", err)
	}
}

func TestRefusesWrongAudience(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	for _, aud := range []any{"https://other.example", []string{"https://a.example", "https://b.example"}, []string{}} {
		wantReason(t, v, craft(t, header(es), with(claims(), "aud", aud), signerFor(t, es)), jwt.ReasonWrongAudience)
	}
	wantReason(t, v, craft(t, header(es), with(claims(), "aud", nil), signerFor(t, es)), jwt.ReasonWrongAudience)
	// Among others it is fine.
	token := craft(t, header(es), with(claims(), "aud", []string{"https://a.example", resource}), signerFor(t, es))
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesExpired(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	// exp <= now - leeway is expired, one second later it is not.
	wantReason(t, v, craft(t, header(es), with(claims(), "exp", now.Add(-leeway).Unix()), signerFor(t, es)), jwt.ReasonExpired)
	wantReason(t, v, craft(t, header(es), with(claims(), "exp", now.Add(-time.Hour).Unix()), signerFor(t, es)), jwt.ReasonExpired)
	if _, err := v.Verify(context.Background(), craft(t, header(es), with(claims(), "exp", now.Add(-leeway+time.Second).Unix()), signerFor(t, es))); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	wantReason(t, v, craft(t, header(es), with(claims(), "exp", nil), signerFor(t, es)), jwt.ReasonMissingExpiry)
	wantReason(t, v, craft(t, header(es), with(claims(), "exp", "tomorrow"), signerFor(t, es)), jwt.ReasonMalformedClaims)
}

func TestRefusesNotYetValid(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	wantReason(t, v, craft(t, header(es), with(claims(), "nbf", now.Add(leeway+time.Second).Unix()), signerFor(t, es)), jwt.ReasonNotYetValid)
	if _, err := v.Verify(context.Background(), craft(t, header(es), with(claims(), "nbf", now.Add(leeway).Unix()), signerFor(t, es))); err != nil {
		t.Fatalf("nbf within leeway: %v", err)
	}
}

func TestRefusesIssuedInTheFuture(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	wantReason(t, v, craft(t, header(es), with(claims(), "iat", now.Add(leeway+time.Second).Unix()), signerFor(t, es)), jwt.ReasonIssuedInFuture)
	if _, err := v.Verify(context.Background(), craft(t, header(es), with(claims(), "iat", now.Add(leeway).Unix()), signerFor(t, es))); err != nil {
		t.Fatalf("iat within leeway: %v", err)
	}
}

func TestRefusesMissingSubject(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	wantReason(t, v, craft(t, header(es), with(claims(), "sub", nil), signerFor(t, es)), jwt.ReasonMissingSubject)
	wantReason(t, v, craft(t, header(es), with(claims(), "sub", ""), signerFor(t, es)), jwt.ReasonMissingSubject)
	// Claim names are exact: "SUB" is not "sub".
	wantReason(t, v, craft(t, header(es), with(claims(), "sub", nil, "SUB", "user-42"), signerFor(t, es)), jwt.ReasonMissingSubject)
}

func TestRefusesMissingClientID(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	v := verifierFor(es)
	wantReason(t, v, craft(t, header(es), with(claims(), "client_id", nil), signerFor(t, es)), jwt.ReasonMissingClientID)
	wantReason(t, v, craft(t, header(es), with(claims(), "client_id", ""), signerFor(t, es)), jwt.ReasonMissingClientID)
}

type failingKeys struct{ err error }

func (f failingKeys) VerificationKey(context.Context, string) (*jose.JSONWebKey, error) {
	return nil, f.err
}

// A key source that fails is not the token's fault: the error is not an
// InvalidTokenError, so the edge can answer 503 rather than 401.
func TestKeySourceFailureIsNotAnInvalidToken(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	down := errors.New("database down")
	v := verifierFor(es)
	v.Keys = failingKeys{err: down}
	_, err := v.Verify(context.Background(), craft(t, header(es), claims(), signerFor(t, es)))
	var invalid *jwt.InvalidTokenError
	if errors.As(err, &invalid) || !errors.Is(err, down) {
		t.Fatalf("got %v", err)
	}
}

func TestVerifierNeedsConfiguration(t *testing.T) {
	t.Parallel()
	es, _ := testKeys(t)
	token, err := jwt.Sign(es, fullClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*jwt.Verifier{
		{Audience: resource, Keys: memKeys{}},
		{Issuer: issuer, Keys: memKeys{}},
		{Issuer: issuer, Audience: resource},
	} {
		if _, err := v.Verify(context.Background(), token); err == nil {
			t.Fatalf("verified with %+v", v)
		}
	}
}
