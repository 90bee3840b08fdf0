package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
)

// FuzzVerify feeds arbitrary strings to the verifier as access tokens. With no
// valid signature among them, each must be refused as an invalid token (the
// key source never fails here), and nothing may panic.
func FuzzVerify(f *testing.F) {
	es := fuzzKey(f)
	v := verifierFor(es)
	valid, err := jwt.Sign(es, fullClaims())
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	for _, s := range []string{
		valid, "", ".", "..", "...", "a.b.c", "a.b.c.d.e",
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1] + "." + parts[2] + "x",
		parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		"eyJhbGciOiJIUzI1NiJ9." + parts[1] + "." + parts[2],
		"eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ." + parts[1] + "." + parts[2],
		`{"payload":"e30","signatures":[]}`,
		"bnVsbA." + parts[1] + "." + parts[2], // header "null"
		"W10." + parts[1] + "." + parts[2],    // header "[]"
		strings.Repeat("A", 20000),
		"\x00.\x00.\x00", "日本.語.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify(context.Background(), token)
		if err == nil {
			// Only the token we signed verifies; another spelling of its
			// signature may too, but never with other claims.
			checkVerified(t, nil, nil, claims)
			if want := fullClaims(); !reflect.DeepEqual(claims, want) {
				t.Fatalf("Verify(%q) accepted claims %+v, not the ones we signed", token, claims)
			}
			return
		}
		var invalid *jwt.InvalidTokenError
		if !errors.As(err, &invalid) || invalid.Reason == "" {
			t.Fatalf("Verify(%q) = %v, want an *InvalidTokenError", token, err)
		}
	})
}

// FuzzVerifySigned signs arbitrary header and payload bytes with the
// verifier's own ES256 key, so that the fuzzer reaches the header and claims
// checks behind the signature. A token that passes must satisfy every rule of
// RFC 9068 the verifier promises, read back independently from the bytes.
func FuzzVerifySigned(f *testing.F) {
	es := fuzzKey(f)
	v := verifierFor(es)
	priv, ok := es.PrivateKey().(*ecdsa.PrivateKey)
	if !ok {
		f.Fatalf("ES256 key is a %T", es.PrivateKey())
	}
	good := `{"alg":"ES256","kid":"` + es.KID + `","typ":"at+jwt"}`
	claims := `{"iss":"` + issuer + `","sub":"user-42","aud":"` + resource + `","client_id":"app-1","exp":1999999999,"iat":1936000000,"scope":"memories:read"}`
	for _, s := range [][2]string{
		{good, claims},
		{`{"alg":"ES256","kid":"` + es.KID + `","typ":"application/AT+JWT"}`, claims},
		{`{"alg":"ES256","kid":"` + es.KID + `","typ":"JWT"}`, claims},
		{`{"alg":"ES256","kid":"` + es.KID + `"}`, claims},
		{`{"alg":"ES256","typ":"at+jwt"}`, claims},
		{`{"alg":"ES256","kid":"other","typ":"at+jwt"}`, claims},
		{`{"alg":"none","kid":"` + es.KID + `","typ":"at+jwt"}`, claims},
		{`{"alg":"HS256","kid":"` + es.KID + `","typ":"at+jwt"}`, claims},
		{`{"alg":"RS256","kid":"` + es.KID + `","typ":"at+jwt"}`, claims},
		{`{"alg":"ES256","alg":"none","kid":"` + es.KID + `","typ":"at+jwt"}`, claims},
		{`{"alg":"ES256","kid":"` + es.KID + `","typ":"at+jwt","crit":["exp"]}`, claims},
		{`{"alg":"ES256","kid":"` + es.KID + `","typ":"at+jwt","jwk":{"kty":"oct","k":"AA"}}`, claims},
		{`{"alg":["ES256"],"kid":"` + es.KID + `","typ":"at+jwt"}`, claims},
		{good, `{}`},
		{good, `null`},
		{good, `[]`},
		{good, `"x"`},
		{good, strings.Replace(claims, `"exp":1999999999`, `"exp":"1999999999"`, 1)},
		{good, strings.Replace(claims, `"exp":1999999999`, `"exp":1e300`, 1)},
		{good, strings.Replace(claims, `"exp":1999999999`, `"exp":-1e15`, 1)},
		{good, strings.Replace(claims, `"exp":1999999999`, `"exp":null`, 1)},
		{good, strings.Replace(claims, `"exp":1999999999`, `"exp":1999999999,"nbf":1999999998`, 1)},
		{good, strings.Replace(claims, `"aud":"`+resource+`"`, `"aud":["x","`+resource+`"]`, 1)},
		{good, strings.Replace(claims, `"aud":"`+resource+`"`, `"aud":[1]`, 1)},
		{good, strings.Replace(claims, `"aud":"`+resource+`"`, `"AUD":"`+resource+`"`, 1)},
		{good, strings.Replace(claims, `"iss":"`+issuer+`"`, `"iss":"`+issuer+`","iss":"https://evil.example"`, 1)},
		{good, strings.Replace(claims, `"sub":"user-42"`, `"sub":""`, 1)},
		{good, strings.Replace(claims, `"sub":"user-42"`, `"sub":"\u0000"`, 1)},
		{good, strings.Replace(claims, `"client_id":"app-1"`, `"client_id":{"a":1}`, 1)},
		{good, strings.Replace(claims, `"scope":"memories:read"`, `"scope":["memories:read"]`, 1)},
		{good, strings.Replace(claims, `"iat":1936000000`, `"iat":4000000000`, 1)},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		token := input + "." + base64.RawURLEncoding.EncodeToString(sig)

		got, err := v.Verify(context.Background(), token)
		if err != nil {
			var invalid *jwt.InvalidTokenError
			if !errors.As(err, &invalid) || invalid.Reason == "" {
				t.Fatalf("Verify(header %q, payload %q) = %v, want an *InvalidTokenError", header, payload, err)
			}
			return
		}
		checkVerified(t, header, payload, got)
		var h struct {
			Alg, Kid, Typ string
		}
		if err := json.Unmarshal(header, &h); err != nil || h.Alg != jwt.ES256 || h.Kid != es.KID ||
			(!strings.EqualFold(h.Typ, "at+jwt") && !strings.EqualFold(h.Typ, "application/at+jwt")) {
			t.Fatalf("accepted header %q (%v)", header, err)
		}
	})
}

// checkVerified asserts what every accepted token's claims satisfy; when the
// payload is given, it reads the claims back from it by exact name.
func checkVerified(t *testing.T, header, payload []byte, c jwt.AccessClaims) {
	t.Helper()
	fail := func(why string) {
		t.Helper()
		t.Fatalf("accepted a token with %s: header %q, payload %q, claims %+v", why, header, payload, c)
	}
	switch {
	case c.Issuer != issuer:
		fail("a wrong issuer")
	case !slices.Contains(c.Audience, resource):
		fail("a wrong audience")
	case c.ExpiresAt.IsZero() || !c.ExpiresAt.After(now.Add(-leeway)):
		fail("no or a past expiry")
	case c.IssuedAt.After(now.Add(leeway)):
		fail("an issue time in the future")
	case c.Subject == "" || c.ClientID == "":
		fail("no subject or client")
	}
	if payload == nil {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		fail("a payload that is not a JSON object")
	}
	if m["iss"] != issuer || m["sub"] != c.Subject || m["client_id"] != c.ClientID {
		fail("claims that differ from the payload's")
	}
	if _, ok := m["exp"].(float64); !ok {
		fail("an exp that is not a number")
	}
}

// fuzzKey makes the ES256 key of a fuzz target (RSA keys are too slow to
// make in every fuzz worker, and their path differs only inside go-jose).
func fuzzKey(f *testing.F) jwt.Key {
	f.Helper()
	k, err := jwt.GenerateKey(jwt.ES256)
	if err != nil {
		f.Fatal(err)
	}
	return k
}
