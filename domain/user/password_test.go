package user_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

var phcFormat = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHashPassword_format(t *testing.T) {
	t.Parallel()

	const pw = "correct horse battery staple"
	h1, err := user.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	m := phcFormat.FindStringSubmatch(h1)
	if m == nil {
		t.Fatalf("hash %q is not an argon2id PHC string with OWASP parameters", h1)
	}
	if strings.Contains(h1, pw) {
		t.Error("hash contains the password")
	}

	// The encoded key is argon2id of the password with the encoded salt and
	// parameters: the string is checkable by any other argon2 implementation.
	salt, err := base64.RawStdEncoding.DecodeString(m[1])
	if err != nil || len(salt) != 16 {
		t.Fatalf("salt %q: %v, %d bytes", m[1], err, len(salt))
	}
	key, err := base64.RawStdEncoding.DecodeString(m[2])
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %v, %d bytes", m[2], err, len(key))
	}
	if want := argon2.IDKey([]byte(pw), salt, 2, 19456, 1, 32); !bytes.Equal(key, want) {
		t.Error("encoded key is not argon2id(password, salt, t=2, m=19456, p=1)")
	}

	h2, err := user.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()

	const pw = "correct horse battery staple"
	h, err := user.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pw   string
		want bool
	}{
		{"right password", pw, true},
		{"wrong password", "correct horse battery stapler", false},
		{"other case", strings.ToUpper(pw), false},
		{"trailing newline", pw + "\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := user.VerifyPassword(tt.pw, h)
			if err != nil || ok != tt.want {
				t.Errorf("VerifyPassword = %v, %v; want %v, nil", ok, err, tt.want)
			}
		})
	}
}

// A hash written by the reference implementation (phc-winner-argon2's CLI:
// "password", salt "somesalt", t=2, m=64, p=1, 24-byte key) verifies, and so
// would hashes kept from older parameters.
func TestVerifyPassword_referenceVector(t *testing.T) {
	t.Parallel()

	const ref = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$Bo1ismRVk2qm6+YAYLCmWHDb+j3fjUH3"
	if ok, err := user.VerifyPassword("password", ref); err != nil || !ok {
		t.Errorf("reference hash: %v, %v; want true", ok, err)
	}
	if ok, err := user.VerifyPassword("Password", ref); err != nil || ok {
		t.Errorf("reference hash, wrong password: %v, %v; want false", ok, err)
	}
}

func TestVerifyPassword_malformed(t *testing.T) {
	t.Parallel()

	const salt, key = "c29tZXNhbHQ", "Bo1ismRVk2qm6+YAYLCmWHDb+j3fjUH3"
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plaintext", "password"},
		{"argon2i", "$argon2i$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=2,p=1$" + salt + "$" + key},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=2,p=1$" + salt + "$" + key},
		{"parameters reordered", "$argon2id$v=19$t=2,m=64,p=1$" + salt + "$" + key},
		{"parameter missing", "$argon2id$v=19$m=64,t=2$" + salt + "$" + key},
		{"extra parameter", "$argon2id$v=19$m=64,t=2,p=1,k=1$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero lanes", "$argon2id$v=19$m=64,t=2,p=0$" + salt + "$" + key},
		{"memory below 8 KiB per lane", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"memory over 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"absurd time", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key},
		{"256 lanes", "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-64,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+64,t=2,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=2,p=1$" + salt + "$" + key},
		{"not a number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "=$" + key},
		{"URL alphabet", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "+", "-")},
		{"salt too short", "$argon2id$v=19$m=64,t=2,p=1$c29tZQ$" + key},
		{"key too short", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$c29tZXNhbHQ"},
		{"empty key", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$"},
		{"missing key", "$argon2id$v=19$m=64,t=2,p=1$" + salt},
		{"trailing field", "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key + "$"},
		{"no leading dollar", "argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := user.VerifyPassword("password", tt.hash)
			if ok || !errors.Is(err, user.ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", tt.hash, ok, err)
			}
		})
	}
}

// DummyVerify must cost what a real verification costs: it checks a well-formed
// hash (a malformed one would return before hashing) with the parameters new
// hashes get.
func TestDummyVerify(t *testing.T) {
	t.Parallel()

	if ok, err := user.VerifyPassword("anything at all", user.DummyHash); err != nil || ok {
		t.Fatalf("dummy hash: %v, %v; want a well-formed hash no password matches", ok, err)
	}
	real, err := user.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if params(user.DummyHash) != params(real) {
		t.Errorf("dummy parameters %q differ from real %q", params(user.DummyHash), params(real))
	}
	if len(user.DummyHash) != len(real) {
		t.Errorf("dummy hash length %d differs from real %d: salt or key size differ", len(user.DummyHash), len(real))
	}
	user.DummyVerify() // must not panic
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		pw   string
		slug string // "" means valid
	}{
		{"12 characters", strings.Repeat("a", 12), ""},
		{"256 characters", strings.Repeat("a", 256), ""},
		{"spaces are characters", "correct horse battery", ""},
		{"12 two-byte characters", strings.Repeat("é", 12), ""},
		{"256 four-byte characters", strings.Repeat("🔑", 256), ""},
		{"empty", "", "password-too-short"},
		{"11 characters", strings.Repeat("a", 11), "password-too-short"},
		{"11 characters in 22 bytes", strings.Repeat("é", 11), "password-too-short"},
		{"257 characters", strings.Repeat("a", 257), "password-too-long"},
		{"invalid UTF-8", strings.Repeat("a", 12) + "\xff", "password-invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := user.ValidatePassword(tt.pw)
			if tt.slug == "" {
				if err != nil {
					t.Errorf("ValidatePassword = %v, want nil", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "password" || e.Slug != tt.slug {
				t.Errorf("ValidatePassword = %#v, want KindInvalid %s on password", err, tt.slug)
			}
		})
	}
}
